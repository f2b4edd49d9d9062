package io.dlm4j.cli;

import io.dlm4j.Lease;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** A lease that the test loses when it wants, whose release can be made slow with {@link #release}. */
final class FakeLease implements Lease {

    final Gate release = new Gate();
    final AtomicInteger closes = new AtomicInteger();
    private final String key;
    private final String owner;
    private final long token;
    private final List<Runnable> onLost = new CopyOnWriteArrayList<>();

    FakeLease(String key, String owner, long token) {
        this.key = key;
        this.owner = owner;
        this.token = token;
    }

    /** Runs the onLost callbacks on the calling thread, as the Dlm's callback thread would. */
    void lose() {
        onLost.forEach(Runnable::run);
    }

    boolean hasLossCallback() {
        return !onLost.isEmpty();
    }

    @Override
    public String key() {
        return key;
    }

    @Override
    public String owner() {
        return owner;
    }

    @Override
    public long fencingToken() {
        return token;
    }

    @Override
    public Instant expiresAt() {
        return Instant.now().plusSeconds(30);
    }

    @Override
    public boolean isValid() {
        return true;
    }

    @Override
    public boolean refresh() {
        return true;
    }

    @Override
    public void onLost(Runnable callback) {
        onLost.add(callback);
    }

    @Override
    public void close() {
        closes.incrementAndGet();
        release.pass();
    }
}
