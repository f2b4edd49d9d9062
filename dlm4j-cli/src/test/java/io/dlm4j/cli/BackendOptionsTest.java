package io.dlm4j.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendOptionsTest {

    @Test
    void anUnnamedInMemoryH2DatabaseIsAUsageError() {
        for (String uri : new String[] {"jdbc:h2:mem:", "JDBC:H2:MEM:", "jdbc:h2:mem:;MODE=PostgreSQL"}) {
            assertThatThrownBy(() -> BackendOptions.checkJdbc(uri)).as(uri)
                    .isInstanceOfSatisfying(CliException.class, e -> {
                        assertThat(e.exitCode()).isEqualTo(ExitCodes.USAGE);
                        assertThat(e.getMessage()).contains("name it: jdbc:h2:mem:NAME");
                    });
        }
    }

    @Test
    void urlsWithADriverPass_andOtherSchemesAreLeftToDlms() {
        // the drivers are on the test class path as in the jar
        assertThatCode(() -> BackendOptions.checkJdbc("jdbc:h2:mem:named")).doesNotThrowAnyException();
        assertThatCode(() -> BackendOptions.checkJdbc("jdbc:postgresql://db/app")).doesNotThrowAnyException();
        assertThatCode(() -> BackendOptions.checkJdbc("jdbc:mariadb://db/app")).doesNotThrowAnyException();
        assertThatCode(() -> BackendOptions.checkJdbc("jdbc:sqlserver://db")).doesNotThrowAnyException();
        assertThatCode(() -> BackendOptions.checkJdbc("redis://cache:6379")).doesNotThrowAnyException();
    }
}
