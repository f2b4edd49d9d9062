package io.dlm4j.redis;

import io.dlm4j.spi.Acquisition.Outcome;
import io.dlm4j.spi.Subscription;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * A Redlock master whose every reply a test scripts: an answer, a failure, or none at all (a
 * future that never completes: the master is hung, or its reply comes after the store gave up).
 * It records each call as a line ("undo O attempt-1"), in order.
 */
final class ScriptedMaster implements RedlockMaster {

    private final String address;
    final List<String> calls = new CopyOnWriteArrayList<>();
    volatile Supplier<CompletableFuture<NodeReply>> acquire = CompletableFuture::new;
    volatile Supplier<CompletableFuture<List<Long>>> refresh = CompletableFuture::new;
    volatile Supplier<CompletableFuture<Boolean>> undo = () -> CompletableFuture.completedFuture(false);
    volatile Supplier<CompletableFuture<Boolean>> recordToken = () -> CompletableFuture.completedFuture(true);

    ScriptedMaster(String address) {
        this.address = address;
    }

    /** Answers every acquire with this. */
    ScriptedMaster acquireAnswers(Outcome outcome, long token, long remainingMs, String owner, long fence) {
        NodeReply reply = new NodeReply(outcome, token, remainingMs, owner, fence);
        acquire = () -> CompletableFuture.completedFuture(reply);
        return this;
    }

    /** Never answers anything: a hung master (SIGSTOP), or one whose replies all come too late. */
    ScriptedMaster hung() {
        acquire = CompletableFuture::new;
        refresh = CompletableFuture::new;
        undo = CompletableFuture::new;
        recordToken = CompletableFuture::new;
        return this;
    }

    /** Refuses every call at once, as an unreachable master does. */
    ScriptedMaster unreachable() {
        IllegalStateException refused = new IllegalStateException("Connection refused: " + address);
        acquire = () -> CompletableFuture.failedFuture(refused);
        refresh = () -> CompletableFuture.failedFuture(refused);
        undo = () -> CompletableFuture.failedFuture(refused);
        recordToken = () -> CompletableFuture.failedFuture(refused);
        return this;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public CompletableFuture<Void> connectInBackground() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<NodeReply> acquire(String[] keys, String owner, long ttlMillis, String attempt) {
        calls.add("acquire " + owner + " " + attempt);
        return acquire.get();
    }

    @Override
    public CompletableFuture<List<Long>> refreshAll(String[] locks, String[] ownersAndTtls) {
        calls.add("refresh " + locks.length);
        return refresh.get();
    }

    @Override
    public CompletableFuture<Boolean> release(String[] keys, String owner, String channel) {
        calls.add("release " + owner);
        return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletableFuture<Boolean> undo(String[] keys, String owner, String attempt, String channel) {
        calls.add("undo " + owner + " " + attempt);
        return undo.get();
    }

    @Override
    public CompletableFuture<Optional<NodeReply>> read(String[] keys) {
        calls.add("read");
        return CompletableFuture.completedFuture(Optional.empty());
    }

    @Override
    public CompletableFuture<Boolean> recordToken(String[] keys, String owner, long token, String attempt) {
        calls.add("recordToken " + owner + " " + token);
        return recordToken.get();
    }

    @Override
    public Duration ping() {
        return Duration.ZERO;
    }

    @Override
    public Subscription onRelease(String channel, Runnable wake) {
        return Subscription.NONE;
    }

    @Override
    public void close() {
    }
}
