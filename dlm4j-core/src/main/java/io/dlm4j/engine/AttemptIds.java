package io.dlm4j.engine;

import java.security.SecureRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Marks for acquire attempts ({@link io.dlm4j.spi.LockStore#acquire(String, String, java.time.Duration, String)}):
 * unique across processes, so that a store never mistakes one attempt's hold for another's.
 */
final class AttemptIds {

    private static final String PROCESS = Long.toHexString(new SecureRandom().nextLong() | Long.MIN_VALUE);
    private static final AtomicLong NEXT = new AtomicLong();

    private AttemptIds() {
    }

    static String next() {
        return PROCESS + '-' + Long.toHexString(NEXT.incrementAndGet());
    }
}
