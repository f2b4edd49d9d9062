package io.dlm4j.torture;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code scripts/torture --quick} inside {@code mvn verify}: every backend of
 * {@link Torture#QUICK_BACKENDS} (PostgreSQL and MariaDB are in the full run only) under a paused holder, its
 * server faults and held traffic (the late-reply fault, through the loopback proxies), real servers
 * and worker JVMs. Writes its report to
 * {@code target/torture-quick/RELIABILITY-quick.md}, never to the committed RELIABILITY.md.
 */
class TortureQuickTest {

    private static List<ScenarioResult> results;

    @BeforeAll
    // a guard against a hang, not a performance bound: about 4 minutes on an idle two-core machine
    @Timeout(value = 9, unit = TimeUnit.MINUTES)
    static void runQuickTorture() throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        long seed = System.currentTimeMillis();
        Path work = Paths.get("target", "torture-quick");
        // surefire starts its JVM through a manifest-only jar; the workers need the real class path
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Settings settings = Settings.quick();
        results = Torture.run(new HashSet<>(Torture.QUICK_BACKENDS), null, true, settings, seed, work, classPath);
        Files.writeString(work.resolve("RELIABILITY-quick.md"), ReliabilityReport.render(results, settings,
                "mvn verify (TortureQuickTest)", seed, "the test machine", Instant.now().toString(),
                MustHold.violations(results)), StandardCharsets.UTF_8);
    }

    @Test
    void everyMustHoldPropertyIsKept() {
        assertThat(MustHold.violations(results)).isEmpty();
    }

    @Test
    void everyBackendRanUnderEveryQuickFaultAndEachFaultWasInjected() {
        for (String backend : Torture.QUICK_BACKENDS) {
            assertThat(results).filteredOn(r -> r.backend().equals(backend))
                    .extracting(ScenarioResult::fault).contains(Fault.PAUSE_HOLDER);
        }
        assertThat(results).allSatisfy(r -> assertThat(r.faultsInjected())
                .as("faults injected in %s / %s", r.backend(), r.fault().label()).isPositive());
    }

    /** Why fencing tokens exist: a holder paused past its ttl writes over its successor. */
    @Test
    void withoutFencingAPausedHolderOverlapsItsSuccessorOnEveryBackend() {
        assertThat(results).filteredOn(r -> r.fault() == Fault.PAUSE_HOLDER)
                .allSatisfy(r -> assertThat(r.findings().overlaps())
                        .as("overlaps without fencing in %s / pause-holder", r.backend()).isPositive());
    }

    /** Held traffic makes calls give up while their requests are still on the way: late replies. */
    @Test
    void heldTrafficMadeRequestsLateAndCallsGiveUpOnEveryBackend() {
        for (String backend : Torture.QUICK_BACKENDS) {
            assertThat(results).filteredOn(r -> r.backend().equals(backend) && r.fault() == Fault.HOLD_TRAFFIC)
                    .as("hold-traffic on %s", backend).singleElement()
                    .satisfies(r -> {
                        assertThat(r.lateBytes()).as("bytes held on %s", backend).isPositive();
                        // A later fault may hit one Redlock master only, or a part of the connections,
                        // and the calls may route around it; the first holds every connection of every
                        // server (NetworkFault) for longer than the operation timeout while a worker
                        // holds the lock, so the others' calls must give up
                        assertThat(r.callsGivenUp()).as("calls that gave up on %s", backend).isPositive();
                    });
        }
    }

    @Test
    void aSingleRedisWithoutPersistenceLosesItsHoldsOnRestart() {
        ScenarioResult restart = results.stream()
                .filter(r -> r.backend().equals("redis") && r.fault() == Fault.KILL_RESTART_SERVER)
                .findFirst().orElseThrow();
        assertThat(restart.holdsBeforeRestart()).isPositive();
        assertThat(restart.holdsAfterRestart()).isZero();
    }
}
