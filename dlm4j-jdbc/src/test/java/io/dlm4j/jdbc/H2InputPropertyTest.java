package io.dlm4j.jdbc;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;
import io.dlm4j.Dlms;
import io.dlm4j.testkit.InputPropertySuite;

/** The input properties on H2 in memory, through {@code Dlms.fromUri} and its pool. */
class H2InputPropertyTest extends InputPropertySuite {

    @Override
    protected Dlm createDlm(DlmOptions options) {
        return Dlms.fromUri("jdbc:h2:mem:properties", options);
    }
}
