package io.dlm4j.testkit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A real etcd cluster for a test class, resolved as an {@code EtcdCluster} parameter of its
 * constructor, its {@code @BeforeAll}/{@code @BeforeEach} methods and its tests.
 *
 * <p>By default the cluster is shared by every class of the test JVM that asks for the same
 * number of {@link #members()}, started on first use and stopped when the JVM's tests end: a class
 * that only needs a healthy cluster must leave it as it found it (keys under a prefix of its own,
 * no auth, no member changes). A class that kills, pauses or reconfigures members asks for a
 * cluster of its {@link #own()}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TestServersExtension.class)
public @interface WithEtcd {

    /** How many members; at least 1. */
    int members() default 1;

    /** A cluster of this class alone, started before its first test and stopped after its last. */
    boolean own() default false;
}
