package io.dlm4j.spi;

/** A registration for release notifications; closing it stops them. */
@FunctionalInterface
public interface Subscription extends AutoCloseable {

    Subscription NONE = () -> { };

    @Override
    void close();
}
