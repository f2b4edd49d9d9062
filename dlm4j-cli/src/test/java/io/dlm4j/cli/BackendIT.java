package io.dlm4j.cli;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code dlm4j run}, {@code status}, {@code unlock} and {@code ping} as separate processes of the
 * real jar against one real backend; a subclass per backend.
 */
abstract class BackendIT {

    private static final Duration START = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    Cli cli;
    String key;
    private final List<Cli.Started> started = new ArrayList<>();
    private final List<Long> orphans = new ArrayList<>();

    /** The backend's URI, for --uri. */
    abstract String uri();

    /** The URI as dlm4j prints it: with its password hidden. */
    String shownUri() {
        return uri();
    }

    @BeforeEach
    void setUp(TestInfo test) {
        cli = new Cli(dir);
        key = getClass().getSimpleName() + "-" + test.getTestMethod().orElseThrow().getName() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
    }

    @AfterEach
    void killLeftovers() {
        started.forEach(Cli.Started::kill);
        orphans.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private Cli.Started start(String... args) {
        Cli.Started s = cli.start(args);
        started.add(s);
        return s;
    }

    /** A program that logs its interval to the file 'f', as the owner in $DLM4J_OWNER. */
    private static final String LOGGED_PROGRAM =
            "echo start $DLM4J_OWNER $(date +%s%N) >> f; sleep 0.5; echo end $DLM4J_OWNER $(date +%s%N) >> f";

    @Test
    void programsOfProcessesOnOneKeyNeverOverlap_andWaitersSayWhoHoldsTheLock() {
        // The holder runs until the file 'go' appears, so the racers all wait on a held lock.
        Cli.Started holder = start("run", "--uri", uri(), "--key", key, "--owner", "holder", "--",
                "sh", "-c", "echo start $DLM4J_OWNER $(date +%s%N) >> f; echo $DLM4J_FENCING_TOKEN > ready; "
                        + "while [ ! -e go ]; do sleep 0.05; done; echo end $DLM4J_OWNER $(date +%s%N) >> f");
        awaitFile("ready", holder);
        long holderToken = Long.parseLong(readFile("ready").strip());

        Cli.Result status = cli.run("status", "--uri", uri(), "--key", key);
        assertThat(status.exit()).as(status.toString()).isZero();
        assertThat(status.out()).matches(Pattern.quote(key) + ": held by holder, token " + holderToken
                + ", expires in \\d+ s\\n");
        Cli.Result json = cli.run("status", "--uri", uri(), "--key", key, "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        assertThat(json.out()).matches("\\{\"key\":\"" + Pattern.quote(key) + "\",\"held\":true,\"owner\":\"holder\","
                + "\"fencingToken\":" + holderToken + ",\"expiresInMillis\":\\d+}\\n");

        Cli.Result noWait = cli.run("run", "--uri", uri(), "--key", key, "--no-wait", "--", "sh", "-c", "echo ran > nowait");
        assertThat(noWait.exit()).as(noWait.toString()).isEqualTo(75);
        assertThat(noWait.err()).matches("dlm4j: '" + Pattern.quote(key)
                + "' not acquired \\(--no-wait\\): held by holder, token " + holderToken + ", expires in [^\\n]+\\n");
        assertThat(noWait.out()).isEmpty();
        assertThat(dir.resolve("nowait")).doesNotExist();

        List<Cli.Started> racers = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            racers.add(start("run", "--uri", uri(), "--key", key, "--owner", "racer-" + i, "--wait", "1m", "--",
                    "sh", "-c", LOGGED_PROGRAM));
        }
        for (Cli.Started racer : racers) {
            await().atMost(START).until(() -> racer.err().contains(
                    "dlm4j: waiting for '" + key + "': held by holder, token " + holderToken + ", expires in "));
        }
        touch("go");

        assertThat(holder.await(Cli.DEFAULT_TIMEOUT).exit()).isZero();
        for (Cli.Started racer : racers) {
            Cli.Result r = racer.await(Cli.DEFAULT_TIMEOUT);
            assertThat(r.exit()).as(r.toString()).isZero();
            assertThat(r.err()).contains("dlm4j: acquired '" + key + "' as racer-");
        }
        assertDisjointIntervals(readFile("f"), 4);

        Cli.Result free = cli.run("status", "--uri", uri(), "--key", key, "--json");
        assertThat(free.out()).isEqualTo("{\"key\":\"" + key + "\",\"held\":false}\n");
        Cli.Result plainFree = cli.run("status", "--uri", uri(), "--key", key);
        assertThat(plainFree.out()).isEqualTo(key + ": free\n");
    }

    @Test
    void exitCodeOfTheProgramPassesThrough_andItsEnvironmentNamesTheLock() {
        Cli.Result r = cli.run("run", "--uri", uri(), "--key", key, "--owner", "env-test", "--",
                "sh", "-c", "echo \"key=$DLM4J_KEY owner=$DLM4J_OWNER token=$DLM4J_FENCING_TOKEN\"; exit 3");
        assertThat(r.exit()).as(r.toString()).isEqualTo(3);
        assertThat(r.out()).matches("key=" + Pattern.quote(key) + " owner=env-test token=[1-9]\\d*\\n");
        assertThat(r.err()).isEmpty();

        Cli.Result again = cli.run("run", "--uri", uri(), "--key", key, "--quiet", "--", "true");
        assertThat(again.exit()).as(again.toString()).isZero();
    }

    @Test
    void waitRunsOutWithExitCode75() {
        Cli.Started holder = start("run", "--uri", uri(), "--key", key, "--owner", "holder", "--",
                "sh", "-c", "echo held > ready; while [ ! -e go ]; do sleep 0.05; done");
        awaitFile("ready", holder);
        Cli.Result r = cli.run("run", "--uri", uri(), "--key", key, "--wait", "1500ms", "--quiet", "--", "true");
        assertThat(r.exit()).as(r.toString()).isEqualTo(75);
        assertThat(r.err()).matches("dlm4j: '" + Pattern.quote(key)
                + "' not acquired within 1s500ms: held by holder, token \\d+, expires in [^\\n]+\\n");
        touch("go");
        assertThat(holder.await(Cli.DEFAULT_TIMEOUT).exit()).isZero();
    }

    @Test
    void twoRunsOnOneHostExcludeEachOtherByDefault() {
        Cli.Started first = start("run", "--uri", uri(), "--key", key, "--",
                "sh", "-c", "echo $DLM4J_OWNER > owner1; while [ ! -e go ]; do sleep 0.05; done");
        awaitFile("owner1", first);
        String firstOwner = readFile("owner1").strip();
        assertThat(firstOwner).as("the default owner: host name and dlm4j's process id")
                .endsWith(":" + first.process.pid()).hasSizeGreaterThan((":" + first.process.pid()).length());

        // a second run on this host, without --owner, waits for the first as flock(1) would
        Cli.Started second = start("run", "--uri", uri(), "--key", key, "--wait", "1m", "--",
                "sh", "-c", "echo $DLM4J_OWNER > owner2");
        await().atMost(START).until(() -> second.err().contains(
                "dlm4j: waiting for '" + key + "': held by " + firstOwner + ", token "));
        assertThat(dir.resolve("owner2")).as("the second run's program, while the first holds the lock").doesNotExist();

        touch("go");
        assertThat(first.await(Cli.DEFAULT_TIMEOUT).exit()).isZero();
        Cli.Result r = second.await(Cli.DEFAULT_TIMEOUT);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(readFile("owner2").strip()).as("the second run's owner").endsWith(":" + second.process.pid())
                .isNotEqualTo(firstOwner);
    }

    @Test
    void lockOfAKilledHolderIsTakenOverAfterItsTtl() {
        Cli.Started holder = start("run", "--uri", uri(), "--key", key, "--owner", "killed", "--ttl", "2s", "--",
                "sh", "-c", "echo $DLM4J_FENCING_TOKEN > token; echo $$ > pid; exec sleep 60");
        awaitFile("pid", holder);
        orphans.add(Long.parseLong(readFile("pid").strip()));
        long holderToken = Long.parseLong(readFile("token").strip());

        holder.process.destroyForcibly(); // kill -9 of dlm4j: no release; its program lives on
        long killedAtNanos = System.currentTimeMillis() * 1_000_000L;
        await().atMost(Duration.ofSeconds(10)).until(() -> !holder.process.isAlive());

        Cli.Result taker = cli.run("run", "--uri", uri(), "--key", key, "--owner", "taker", "--ttl", "2s",
                "--wait", "30s", "--", "sh", "-c", "echo $(date +%s%N) $DLM4J_FENCING_TOKEN > taken");
        assertThat(taker.exit()).as(taker.toString()).isZero();
        String[] taken = readFile("taken").strip().split(" ");
        long takenAtNanos = Long.parseLong(taken[0]);
        assertThat(Long.parseLong(taken[1])).isGreaterThan(holderToken);
        // the hold was refreshed at most a third of the ttl (0.67 s) before the kill, so it outlived the kill by at least 1.33 s (1 s asserted, for slack)
        assertThat(Duration.ofNanos(takenAtNanos - killedAtNanos)).isGreaterThan(Duration.ofMillis(1000));
    }

    @Test
    void sigtermStopsTheProgramAndReleasesTheLockAtOnce() {
        Cli.Started holder = start("run", "--uri", uri(), "--key", key, "--owner", "terminated", "--grace", "5s", "--",
                "sh", "-c", "echo $$ > pid; exec sleep 60");
        awaitFile("pid", holder);
        long programPid = Long.parseLong(readFile("pid").strip());
        orphans.add(programPid);

        holder.process.destroy(); // SIGTERM to dlm4j
        Cli.Result r = holder.await(Duration.ofSeconds(20));
        assertThat(r.exit()).as(r.toString()).isEqualTo(143);
        assertThat(ProcessHandle.of(programPid).map(ProcessHandle::isAlive).orElse(false))
                .as("the program got SIGTERM and was reaped by dlm4j").isFalse();

        Cli.Result status = cli.run("status", "--uri", uri(), "--key", key);
        assertThat(status.out()).isEqualTo(key + ": free\n");
        assertThat(r.err()).doesNotContain("Exception");
    }

    @Test
    void unlockReleasesOnlyAsTheOwner_andKillOnLossStopsTheProgram() {
        Cli.Started holder = start("run", "--uri", uri(), "--key", key, "--owner", "stuck", "--ttl", "3s",
                "--kill-on-loss", "--grace", "2s", "--", "sh", "-c", "echo $$ > pid; exec sleep 60");
        awaitFile("pid", holder);
        orphans.add(Long.parseLong(readFile("pid").strip()));

        Cli.Result other = cli.run("unlock", "--uri", uri(), "--key", key, "--owner", "someone-else");
        assertThat(other.exit()).as(other.toString()).isZero();
        assertThat(other.out()).matches("not held by someone-else: held by stuck, token \\d+, expires in [^\\n]+; "
                + "left as it is\\n");

        Cli.Result released = cli.run("unlock", "--uri", uri(), "--key", key, "--owner", "stuck");
        assertThat(released.exit()).as(released.toString()).isZero();
        assertThat(released.out()).matches("released: '" + Pattern.quote(key) + "' was held by stuck \\(token \\d+\\)\\n");

        // the holder's next refresh (every second) finds the lock gone: it stops its program
        Cli.Result lost = holder.await(Duration.ofSeconds(20));
        assertThat(lost.exit()).as(lost.toString()).isEqualTo(143);
        assertThat(lost.err()).contains("dlm4j: lost the lock '" + key + "'", "stopping the program (--kill-on-loss)");

        Cli.Result free = cli.run("unlock", "--uri", uri(), "--key", key, "--owner", "stuck");
        assertThat(free.exit()).as(free.toString()).isZero();
        assertThat(free.out()).isEqualTo("free: '" + key + "' is not held by anyone\n");
    }

    @Test
    void pingPrintsTheRoundTrip() {
        Cli.Result plain = cli.run("ping", "--uri", uri());
        assertThat(plain.exit()).as(plain.toString()).isZero();
        assertThat(plain.out()).matches("ok: " + Pattern.quote(shownUri()) + " answered in [0-9.]+ ms "
                + "\\(first call, with connecting: [0-9.]+ ms\\)\\n");
        Cli.Result json = cli.run("ping", "--uri", uri(), "--json");
        assertThat(json.exit()).as(json.toString()).isZero();
        assertThat(json.out()).matches("\\{\"uri\":\"" + Pattern.quote(shownUri())
                + "\",\"ok\":true,\"roundTripMillis\":[0-9.]+,\"firstMillis\":[0-9.]+}\\n");
    }

    // ---- helpers ----

    /** Lines "start OWNER NANOS" / "end OWNER NANOS": each start is followed by its end, in time order. */
    static void assertDisjointIntervals(String log, int programs) {
        Pattern line = Pattern.compile("(start|end) (\\S+) (\\d+)");
        String[] lines = log.strip().split("\n");
        assertThat(lines).as(log).hasSize(2 * programs);
        Set<String> owners = new HashSet<>();
        long previousEnd = 0;
        for (int i = 0; i < programs; i++) {
            Matcher start = line.matcher(lines[2 * i]);
            Matcher end = line.matcher(lines[2 * i + 1]);
            assertThat(start.matches() && end.matches()).as(log).isTrue();
            assertThat(start.group(1)).as(log).isEqualTo("start");
            assertThat(end.group(1)).as(log).isEqualTo("end");
            assertThat(end.group(2)).as("the program that started last ends next:\n" + log).isEqualTo(start.group(2));
            long from = Long.parseLong(start.group(3));
            long to = Long.parseLong(end.group(3));
            assertThat(from).as(log).isGreaterThanOrEqualTo(previousEnd);
            assertThat(to).as(log).isGreaterThanOrEqualTo(from);
            previousEnd = to;
            owners.add(start.group(2));
        }
        assertThat(owners).as(log).hasSize(programs);
    }

    void awaitFile(String name, Cli.Started process) {
        await().atMost(START).until(() -> {
            if (!process.process.isAlive()) {
                throw new AssertionError("dlm4j " + process.args + " ended with " + process.process.exitValue()
                        + "\n" + process.err());
            }
            return Files.exists(dir.resolve(name)) && !readFile(name).isBlank();
        });
    }

    String readFile(String name) {
        try {
            return Files.readString(dir.resolve(name), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    void touch(String name) {
        try {
            Files.writeString(dir.resolve(name), "go\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
