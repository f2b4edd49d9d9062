package io.dlm4j.testkit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Real {@code redis-server} processes for a test class, resolved as parameters of its constructor,
 * its {@code @BeforeAll}/{@code @BeforeEach} methods and its tests: a parameter of type
 * {@code RedisServer} gets the first server, a {@code List<RedisServer>} all of them.
 *
 * <p>By default the servers are shared by every class of the test JVM that asks for the same
 * {@link #count()}, started on first use and stopped when the JVM's tests end: a class that only
 * needs a healthy server must leave the servers as it found them (keys of its own, no
 * configuration changes). A class that stops, pauses, restarts or reconfigures its servers, or
 * counts their commands, asks for servers of its {@link #own()}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TestServersExtension.class)
public @interface WithRedis {

    /** How many independent servers (Redlock's masters); at least 1. */
    int count() default 1;

    /** Servers of this class alone, started before its first test and stopped after its last. */
    boolean own() default false;
}
