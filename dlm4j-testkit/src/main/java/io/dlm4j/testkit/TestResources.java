package io.dlm4j.testkit;

import io.dlm4j.Dlm;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * What one conformance test opened: its key, the Dlms it created and the tasks it started on
 * threads of their own. {@link ConformanceSuite} makes one per test and ends everything in it after
 * the test, so that no hold, connection or waiting thread reaches the next test. Each test's key
 * is its name plus a random suffix, so that backends may share one server or table across tests.
 */
public final class TestResources {

    private final List<Dlm> dlms = new CopyOnWriteArrayList<>();
    private final List<Attempt<?>> attempts = new CopyOnWriteArrayList<>();
    private String key;

    TestResources() {
    }

    void nameKeyAfter(String test) {
        key = "dlm4j-" + test + "-" + Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
    }

    String key() {
        return key;
    }

    Dlm closeAfterTest(Dlm dlm) {
        dlms.add(dlm);
        return dlm;
    }

    <T> Attempt<T> start(String name, Callable<T> task) {
        Attempt<T> attempt = new Attempt<>(name, task);
        attempts.add(attempt);
        attempt.thread().start();
        return attempt;
    }

    /** Interrupts and joins the test's attempts, then closes its Dlms, newest first. */
    void endAll() throws InterruptedException {
        Thread.interrupted(); // never leave a test's interrupt on the runner's thread
        for (Attempt<?> attempt : attempts) {
            attempt.thread().interrupt();
        }
        for (Attempt<?> attempt : attempts) {
            attempt.thread().join(TimeUnit.SECONDS.toMillis(5));
        }
        attempts.clear();
        List<Dlm> toClose = new ArrayList<>(dlms);
        Collections.reverse(toClose);
        dlms.clear();
        RuntimeException failure = null;
        for (Dlm dlm : toClose) {
            try {
                dlm.close();
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
