package io.dlm4j.torture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FlatJsonTest {

    @Test
    void historyEventsAndResourceOpsSurviveTheRoundTrip() {
        HistoryEvent e = new HistoryEvent("w\"1", "ok", "acquire", "k\\1", 42L, 123456789L);
        assertThat(HistoryEvent.fromJson(e.toJson())).isEqualTo(e);
        HistoryEvent noToken = new HistoryEvent("w1", "invoke", "acquire", "k", null, 1L);
        assertThat(HistoryEvent.fromJson(noToken.toJson())).isEqualTo(noToken);
        ResourceOp op = new ResourceOp("WRITE", "k", "w1", 7, 99, false, 3, null, 4, 5L);
        assertThat(ResourceOp.fromJson(op.toJson())).isEqualTo(op);
    }

    @Test
    void aHistoryCutInItsLastLineKeepsTheCompleteLinesButABadLineInTheMiddleIsAnError(@TempDir Path dir) throws Exception {
        String good = new HistoryEvent("w1", "invoke", "acquire", "k", null, 1L).toJson();
        Path cut = dir.resolve("cut.jsonl");
        Files.writeString(cut, good + "\n" + good.substring(0, 20));
        assertThat(HistoryEvent.readAll(cut)).hasSize(1);

        Path bad = dir.resolve("bad.jsonl");
        Files.writeString(bad, good.substring(0, 20) + "\n" + good + "\n");
        assertThatThrownBy(() -> HistoryEvent.readAll(bad)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("line 1");
    }
}
