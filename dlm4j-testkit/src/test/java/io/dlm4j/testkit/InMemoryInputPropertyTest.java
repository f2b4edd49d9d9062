package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.memory.InMemoryDlm;

/** The input properties on the in-memory backend (here, as core cannot depend on the testkit). */
class InMemoryInputPropertyTest extends InputPropertySuite {

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return InMemoryDlm.create(options);
    }

    @Override
    protected int tries() {
        return 500;
    }
}
