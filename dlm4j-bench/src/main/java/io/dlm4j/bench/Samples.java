package io.dlm4j.bench;

import java.util.Arrays;

/** Latencies in nanoseconds, recorded by one thread, merged after the run. */
final class Samples {

    private long[] values = new long[1024];
    private int size;

    void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    int size() {
        return size;
    }

    static Samples merge(Iterable<Samples> parts) {
        Samples all = new Samples();
        for (Samples p : parts) {
            for (int i = 0; i < p.size; i++) {
                all.add(p.values[i]);
            }
        }
        Arrays.sort(all.values, 0, all.size);
        return all;
    }

    /** The q-quantile in microseconds of merged (sorted) samples; NaN without samples. */
    double quantileMicros(double q) {
        if (size == 0) {
            return Double.NaN;
        }
        int i = (int) Math.min(size - 1, Math.max(0, Math.ceil(q * size) - 1));
        return values[i] / 1000.0;
    }
}
