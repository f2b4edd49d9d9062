package io.dlm4j.testkit;

import org.junit.jupiter.api.extension.ExtendWith;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A real PostgreSQL server (the postgres OS user's, see {@code PostgresServer}) for a test class, resolved as a {@code PostgresServer} parameter of its constructor, its
 * {@code @BeforeAll}/{@code @BeforeEach} methods and its tests.
 *
 * <p>By default the server is shared by every class of the test JVM, started on first use and
 * stopped when the JVM's tests end: a class that only needs a healthy server must use
 * a database of its own ({@code createDatabase}) and leave users and settings as it found them. A class that stops, kills, pauses or
 * restarts its server, or asserts on its whole log, asks for a server of its {@link #own()}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Inherited
@ExtendWith(TestServersExtension.class)
public @interface WithPostgres {

    /** A server of this class alone, started before its first test and stopped after its last. */
    boolean own() default false;
}
