package io.dlm4j.mongo;

import io.dlm4j.testkit.BadBackendSuite;

import java.util.List;

/**
 * A MongoDB that is down, hung or not MongoDB at all, through {@code mongodb://}. The in-process
 * test server cannot be frozen, so the frozen-server test is skipped here: the socket that accepts
 * and never answers stands in for a stopped mongod.
 */
class MongoBadBackendTest extends BadBackendSuite {

    @Override
    protected String uri(List<String> hostPorts) {
        return "mongodb://" + hostPorts.get(0) + "/bad";
    }

    @Override
    protected String backendName() {
        return "MongoDB";
    }
}
