package io.dlm4j.torture;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.Lease;
import io.dlm4j.LockBackendException;
import io.dlm4j.LockTimeoutException;
import io.dlm4j.Mutex;
import io.dlm4j.MutexOptions;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One worker process: loops acquire a lock on one of a few keys, read-modify-write the guarded
 * resource, release; writes every lock operation to its history file; stops by itself after a number
 * of operations or a time limit. Started by the harness as a separate JVM:
 * <pre>
 * java -cp CLASSPATH io.dlm4j.torture.Worker name=w1 uri=redis://127.0.0.1:6379 resource=41000
 *      keys=a,b,c ops=100 seconds=20 ttlMs=1000 maxWaitMs=3000 operationTimeoutMs=2000
 *      workMaxMs=150 history=/tmp/w1.jsonl clock=/tmp/w1.clock seed=7
 * </pre>
 * The history is flushed after every line, so a worker killed with SIGKILL leaves everything up to
 * its last complete line.
 */
public final class Worker {

    private final Map<String, String> args;
    private final String name;

    private Worker(Map<String, String> args) {
        this.args = args;
        this.name = arg("name");
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = new HashMap<>();
        for (String a : argv) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("argument must be name=value, was '" + a + "'");
            }
            args.put(a.substring(0, eq), a.substring(eq + 1));
        }
        new Worker(args).run();
        System.exit(0); // a client's non-daemon thread must not keep a finished worker alive
    }

    private String arg(String key) {
        String v = args.get(key);
        if (v == null) {
            throw new IllegalArgumentException("argument " + key + "= is required");
        }
        return v;
    }

    private long number(String key) {
        return Long.parseLong(arg(key));
    }

    private void run() throws IOException, InterruptedException {
        List<String> keys = List.of(arg("keys").split(","));
        long ops = number("ops");
        Duration ttl = Duration.ofMillis(number("ttlMs"));
        Duration maxWait = Duration.ofMillis(number("maxWaitMs"));
        long workMaxMs = number("workMaxMs");
        Random random = new Random(number("seed"));
        OffsetClock clock = OffsetClock.following(Paths.get(arg("clock")));
        DlmOptions options = DlmOptions.builder()
                .defaultOwner(name)
                .defaultTtl(ttl)
                .autoRefresh(false)
                .waitingInterval(Duration.ofMillis(50))
                .operationTimeout(Duration.ofMillis(number("operationTimeoutMs")))
                .clock(clock)
                .build();
        Path historyFile = Paths.get(arg("history"));
        try (Writer history = Files.newBufferedWriter(historyFile, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
             Socket socket = new Socket(InetAddress.getLoopbackAddress(), Integer.parseInt(arg("resource")));
             BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
             BufferedWriter out = new BufferedWriter(new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8));
             Dlm dlm = Dlms.fromUri(arg("uri"), options)) {
            ResourceClient resource = new ResourceClient(in, out);
            warmUp(dlm);
            Files.createFile(readyFile(historyFile));
            long deadline = System.nanoTime() + Duration.ofSeconds(number("seconds")).toNanos();
            for (long i = 0; i < ops && System.nanoTime() - deadline < 0; i++) {
                String key = keys.get(random.nextInt(keys.size()));
                Mutex mutex = dlm.newMutex(MutexOptions.builder(key).owner(name).ttl(ttl).autoRefresh(false).build());
                record(history, HistoryEvent.INVOKE, HistoryEvent.ACQUIRE, key, null);
                Lease lease;
                try {
                    lease = mutex.lock(maxWait);
                } catch (LockTimeoutException e) {
                    record(history, HistoryEvent.FAIL, HistoryEvent.ACQUIRE, key, null);
                    continue;
                } catch (LockBackendException e) {
                    record(history, HistoryEvent.INFO, HistoryEvent.ACQUIRE, key, null);
                    pauseAfterFailure();
                    continue;
                }
                long token = lease.fencingToken();
                record(history, HistoryEvent.OK, HistoryEvent.ACQUIRE, key, token);
                resource.readModifyWrite(key, name, token, random.nextInt((int) workMaxMs + 1));
                record(history, HistoryEvent.INVOKE, HistoryEvent.RELEASE, key, token);
                try {
                    lease.close();
                    record(history, HistoryEvent.OK, HistoryEvent.RELEASE, key, token);
                } catch (LockBackendException e) {
                    record(history, HistoryEvent.INFO, HistoryEvent.RELEASE, key, token);
                    pauseAfterFailure();
                }
            }
        }
    }

    /** The file a worker creates once it is warm, next to its history. */
    static Path readyFile(Path history) {
        return history.resolveSibling(history.getFileName() + ".ready");
    }

    /**
     * Connects and loads the client's classes before the first recorded operation: five JVMs
     * starting at once on two cores can take longer than an operation timeout for their first call,
     * which would be recorded as a backend failure that no fault caused.
     */
    private static void warmUp(Dlm dlm) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            try {
                dlm.ping();
                return;
            } catch (LockBackendException e) {
                if (System.nanoTime() - end > 0) {
                    throw e;
                }
                Thread.sleep(100); // a retry interval, not a wait for a state
            }
        }
    }

    /** A backend that just failed usually fails the next call too; a short pause spares a busy loop. */
    private static void pauseAfterFailure() throws InterruptedException {
        Thread.sleep(50);
    }

    private void record(Writer history, String type, String f, String key, Long token) throws IOException {
        history.write(new HistoryEvent(name, type, f, key, token, System.nanoTime()).toJson());
        history.write('\n');
        history.flush();
    }

    /** The worker's side of the guarded resource's line protocol. */
    private record ResourceClient(BufferedReader in, BufferedWriter out) {

        void readModifyWrite(String key, String process, long token, long workMs) throws IOException, InterruptedException {
            String[] read = call("READ " + key + " " + process + " " + token);
            boolean fencedAccepted = read[1].equals("1");
            long fenced = Long.parseLong(read[2]);
            long unfenced = Long.parseLong(read[3]);
            if (workMs > 0) {
                Thread.sleep(workMs); // the "work" inside the critical section, where pauses land
            }
            call("WRITE " + key + " " + process + " " + token + " " + (fencedAccepted ? Long.toString(fenced + 1) : "-")
                    + " " + (unfenced + 1));
        }

        private String[] call(String request) throws IOException {
            out.write(request);
            out.write('\n');
            out.flush();
            String reply = in.readLine();
            if (reply == null || !reply.startsWith("OK ")) {
                throw new IOException("guarded resource answered '" + reply + "' to '" + request + "'");
            }
            return reply.split(" ");
        }
    }
}
