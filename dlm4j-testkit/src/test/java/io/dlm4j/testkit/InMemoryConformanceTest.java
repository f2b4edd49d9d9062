package io.dlm4j.testkit;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.memory.InMemoryDlm;

/** The conformance suite on the in-memory backend: all Dlms of this JVM share one lock table. */
class InMemoryConformanceTest extends ConformanceSuite {

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return InMemoryDlm.create(options);
    }

    @Override
    protected void deleteStoredRecord(String key) {
        InMemoryDlm.forgetRecord(key);
    }

    @Override
    protected boolean notifiesWaitersOnRelease() {
        return true;
    }
}
