package io.dlm4j.testkit;

import io.dlm4j.testservers.EmbeddedMongoServer;
import io.dlm4j.testservers.EtcdCluster;
import io.dlm4j.testservers.MariaDbServer;
import io.dlm4j.testservers.PostgresServer;
import io.dlm4j.testservers.RedisServer;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

import java.lang.annotation.Annotation;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Resolves the servers of {@link WithRedis}, {@link WithEtcd}, {@link WithEmbeddedMongo},
 * {@link WithPostgres} and {@link WithMariaDb} as parameters. Shared servers live in the root {@link ExtensionContext.Store}, so that one JVM
 * starts each kind once and stops it when its tests end; a class's own servers live in the store
 * of that class, and stop after its last test. Either way JUnit closes them, also when a test fails.
 * Public only because JUnit instantiates it for the annotations.
 */
public final class TestServersExtension implements ParameterResolver {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(TestServersExtension.class);

    private enum Kind { REDIS, REDIS_LIST, ETCD, MONGO, POSTGRES, MARIADB }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        Kind kind = kindOf(parameter.getParameter().getParameterizedType());
        return kind != null && annotated(context, annotationOf(kind)).isPresent();
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        Kind kind = kindOf(parameter.getParameter().getParameterizedType());
        Annotated<?> annotated = annotated(context, annotationOf(kind))
                .orElseThrow(() -> new ParameterResolutionException("no @" + annotationOf(kind).getSimpleName()
                        + " on " + context.getRequiredTestClass().getName()));
        Servers servers = switch (kind) {
            case REDIS, REDIS_LIST -> {
                WithRedis with = (WithRedis) annotated.annotation();
                if (with.count() < 1) {
                    throw new ParameterResolutionException("@WithRedis(count) must be at least 1, was " + with.count());
                }
                yield servers(context, annotated, with.own(), "redis x" + with.count(),
                        () -> Servers.start(with.count(), RedisServer::start));
            }
            case ETCD -> {
                WithEtcd with = (WithEtcd) annotated.annotation();
                if (with.members() < 1) {
                    throw new ParameterResolutionException("@WithEtcd(members) must be at least 1, was " + with.members());
                }
                yield servers(context, annotated, with.own(), "etcd x" + with.members(),
                        () -> Servers.start(1, () -> EtcdCluster.start(with.members())));
            }
            case MONGO -> servers(context, annotated, ((WithEmbeddedMongo) annotated.annotation()).own(), "mongo",
                    () -> Servers.start(1, EmbeddedMongoServer::start));
            case POSTGRES -> servers(context, annotated, ((WithPostgres) annotated.annotation()).own(), "postgres",
                    () -> Servers.start(1, PostgresServer::start));
            case MARIADB -> servers(context, annotated, ((WithMariaDb) annotated.annotation()).own(), "mariadb",
                    () -> Servers.start(1, MariaDbServer::start));
        };
        return kind == Kind.REDIS_LIST ? servers.all() : servers.all().get(0);
    }

    private static Servers servers(ExtensionContext context, Annotated<?> annotated, boolean own, String key,
                                   Supplier<Servers> start) {
        // a store also answers with what its parents hold: an own key equal to a shared key would
        // hand a class the shared servers it asked not to share
        ExtensionContext.Store store = own ? classContext(context, annotated.type()).getStore(NAMESPACE)
                : context.getRoot().getStore(NAMESPACE);
        return store.getOrComputeIfAbsent((own ? "own " : "shared ") + key, k -> start.get(), Servers.class);
    }

    /** The context of the annotated class, whose store lives as long as that class's tests. */
    private static ExtensionContext classContext(ExtensionContext context, Class<?> type) {
        for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
            if (c.getElement().orElse(null) == type) {
                return c;
            }
        }
        return context;
    }

    private record Annotated<A extends Annotation>(A annotation, Class<?> type) {
    }

    /** The annotation on the test class, a superclass, or a class that encloses a nested test class. */
    private static <A extends Annotation> Optional<Annotated<A>> annotated(ExtensionContext context, Class<A> annotation) {
        for (Class<?> type = context.getTestClass().orElse(null); type != null; type = type.getEnclosingClass()) {
            A found = type.getAnnotation(annotation); // @Inherited: also from a superclass
            if (found != null) {
                return Optional.of(new Annotated<>(found, type));
            }
        }
        return Optional.empty();
    }

    private static Class<? extends Annotation> annotationOf(Kind kind) {
        return switch (kind) {
            case REDIS, REDIS_LIST -> WithRedis.class;
            case ETCD -> WithEtcd.class;
            case MONGO -> WithEmbeddedMongo.class;
            case POSTGRES -> WithPostgres.class;
            case MARIADB -> WithMariaDb.class;
        };
    }

    private static Kind kindOf(Type type) {
        if (type == RedisServer.class) {
            return Kind.REDIS;
        }
        if (type == EtcdCluster.class) {
            return Kind.ETCD;
        }
        if (type == EmbeddedMongoServer.class) {
            return Kind.MONGO;
        }
        if (type == PostgresServer.class) {
            return Kind.POSTGRES;
        }
        if (type == MariaDbServer.class) {
            return Kind.MARIADB;
        }
        if (type instanceof ParameterizedType p && p.getRawType() == List.class
                && p.getActualTypeArguments()[0] == RedisServer.class) {
            return Kind.REDIS_LIST;
        }
        return null;
    }

    /** Started servers of one kind, closed together by the store that holds them. */
    private record Servers(List<AutoCloseable> all) implements AutoCloseable {

        static Servers start(int count, Supplier<? extends AutoCloseable> start) {
            List<AutoCloseable> started = new ArrayList<>();
            try {
                for (int i = 0; i < count; i++) {
                    started.add(start.get());
                }
            } catch (RuntimeException e) {
                new Servers(started).closeQuietlyAfter(e);
                throw e;
            }
            return new Servers(List.copyOf(started));
        }

        @Override
        public void close() throws Exception {
            Exception first = null;
            for (AutoCloseable server : all) {
                try {
                    server.close();
                } catch (Exception e) {
                    if (first == null) {
                        first = e;
                    } else {
                        first.addSuppressed(e);
                    }
                }
            }
            if (first != null) {
                throw first;
            }
        }

        private void closeQuietlyAfter(RuntimeException cause) {
            try {
                close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }
    }
}
