package io.dlm4j.mongo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The README's quick start compiles against today's API, so that it cannot rot: the test takes the
 * first Java block under "## Quick start", puts it in a method next to the two helpers it calls,
 * and compiles it with this module's test class path.
 */
class ReadmeQuickStartTest {

    private static final Pattern QUICK_START =
            Pattern.compile("## Quick start\\s+```java\\n(.*?)```", Pattern.DOTALL);

    @Test
    void theQuickStartCompiles(@TempDir Path dir) throws IOException {
        String readme = Files.readString(Path.of("..", "README.md"), StandardCharsets.UTF_8);
        Matcher block = QUICK_START.matcher(readme);
        assertThat(block.find()).as("README.md has a ```java block right under '## Quick start'").isTrue();
        String snippet = block.group(1);
        assertThat(snippet).contains("MongoDlm.create").contains(".lock(");

        Path source = dir.resolve("QuickStart.java");
        Files.writeString(source, """
                import com.mongodb.client.MongoClient;
                import com.mongodb.client.MongoClients;
                import io.dlm4j.*;
                import io.dlm4j.mongo.MongoDlm;
                import java.time.Duration;

                class QuickStart {
                    static boolean alreadyApplied() { return false; }
                    static void migrate(long fencingToken) { }

                    static void run() throws InterruptedException {
                %s
                    }
                }
                """.formatted(snippet), StandardCharsets.UTF_8);

        JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        try (StandardJavaFileManager files = compiler.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
            boolean compiled = compiler.getTask(null, files, diagnostics,
                    List.of("-classpath", testClassPath(), "-d", dir.toString(),
                            "-proc:none", "-Xlint:none"),
                    null, files.getJavaFileObjects(source)).call();
            assertThat(diagnostics.getDiagnostics()).as("compiler diagnostics for the README's quick start").isEmpty();
            assertThat(compiled).isTrue();
        }
    }

    /** Surefire's forked JVM may see only a manifest jar on java.class.path; it names the real one here. */
    private static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }
}
