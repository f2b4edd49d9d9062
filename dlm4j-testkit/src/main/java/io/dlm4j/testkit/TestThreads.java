package io.dlm4j.testkit;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;

/**
 * The threads the conformance suite starts for its callers (background attempts, workers):
 * virtual threads with the system property {@value ConformanceSuite#VIRTUAL_THREADS_PROPERTY}
 * {@code = true}, otherwise platform daemon threads. Virtual threads need Java 21 or later; the
 * suite itself compiles for Java 17 and finds them by reflection.
 */
final class TestThreads {

    /** Whether every thread the suite starts is a virtual thread. */
    static final boolean VIRTUAL = Boolean.getBoolean(ConformanceSuite.VIRTUAL_THREADS_PROPERTY);

    private TestThreads() {
    }

    /** Fails at once, rather than at the first thread, when virtual threads are asked for and missing. */
    static void checkMode() {
        if (VIRTUAL) {
            VirtualThreads.check();
        }
    }

    /** A new, unstarted daemon thread: a virtual thread when {@link #VIRTUAL}, otherwise a platform thread. */
    static Thread newThread(String name, Runnable task) {
        if (VIRTUAL) {
            return VirtualThreads.unstarted(name, task); // virtual threads are always daemons
        }
        Thread thread = new Thread(task, name);
        thread.setDaemon(true);
        return thread;
    }

    /** {@code Thread.ofVirtual().name(name).unstarted(task)}, looked up by reflection (Java 21+). */
    private static final class VirtualThreads {
        private static final Method OF_VIRTUAL;
        private static final Method NAME;
        private static final Method UNSTARTED;
        private static final String MISSING;

        static {
            Method ofVirtual = null;
            Method name = null;
            Method unstarted = null;
            String missing = null;
            try {
                ofVirtual = Thread.class.getMethod("ofVirtual");
                Class<?> builder = Class.forName("java.lang.Thread$Builder");
                name = builder.getMethod("name", String.class);
                unstarted = builder.getMethod("unstarted", Runnable.class);
                Object probe = ofVirtual.invoke(null); // fails where virtual threads are a disabled preview
                unstarted.invoke(probe, (Runnable) () -> { });
            } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
                missing = e instanceof InvocationTargetException ? String.valueOf(e.getCause()) : String.valueOf(e);
            }
            OF_VIRTUAL = ofVirtual;
            NAME = name;
            UNSTARTED = unstarted;
            MISSING = missing;
        }

        static void check() {
            if (MISSING != null) {
                throw new IllegalStateException(ConformanceSuite.VIRTUAL_THREADS_PROPERTY + "=true, but this JVM (Java "
                        + System.getProperty("java.version") + " at " + System.getProperty("java.home")
                        + ") has no virtual threads (Thread.ofVirtual, Java 21 or later): run the tests on a newer JDK"
                        + " or without that property [" + MISSING + "]");
            }
        }

        static Thread unstarted(String name, Runnable task) {
            check();
            try {
                Object builder = NAME.invoke(OF_VIRTUAL.invoke(null), name);
                return (Thread) UNSTARTED.invoke(builder, task);
            } catch (InvocationTargetException e) {
                throw new IllegalStateException("cannot make a virtual thread", e.getCause());
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot make a virtual thread", e);
            }
        }
    }
}
