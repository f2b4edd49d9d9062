package io.dlm4j.memory;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.spi.DlmProvider;

import java.util.Set;

/** Serves {@code memory:} for {@link io.dlm4j.Dlms#fromUri}. */
public final class InMemoryDlmProvider implements DlmProvider {

    @Override
    public Set<String> schemes() {
        return Set.of("memory");
    }

    @Override
    public Dlm create(String uri, DlmOptions options) {
        return InMemoryDlm.create(options);
    }
}
