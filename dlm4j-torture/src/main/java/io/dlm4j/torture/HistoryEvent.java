package io.dlm4j.torture;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One line of a worker's history.
 *
 * @param process the worker's name, also its lock owner
 * @param type    {@code invoke}; then {@code ok}, {@code fail} (definitely did not happen: the wait
 *                timed out) or {@code info} (indeterminate: the backend failed)
 * @param f       {@code acquire} or {@code release}
 * @param token   the fencing token on an ok acquire and on a release; null otherwise
 * @param time    {@link System#nanoTime()} in the worker; on Linux that is CLOCK_MONOTONIC, one clock
 *                for every JVM on the machine, so times of different processes compare
 */
record HistoryEvent(String process, String type, String f, String key, Long token, long time) {

    static final String INVOKE = "invoke";
    static final String OK = "ok";
    static final String FAIL = "fail";
    static final String INFO = "info";
    static final String ACQUIRE = "acquire";
    static final String RELEASE = "release";

    boolean isCompletion() {
        return !type.equals(INVOKE);
    }

    String toJson() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("process", process);
        m.put("type", type);
        m.put("f", f);
        m.put("key", key);
        m.put("token", token);
        m.put("time", time);
        return FlatJson.write(m);
    }

    static HistoryEvent fromJson(String line) {
        Map<String, Object> m = FlatJson.read(line);
        Object token = m.get("token");
        Object time = m.get("time");
        if (!(time instanceof Long)) {
            throw new IllegalArgumentException("history line has no integer time: " + line);
        }
        return new HistoryEvent((String) m.get("process"), (String) m.get("type"), (String) m.get("f"),
                (String) m.get("key"), token == null ? null : (Long) token, (Long) time);
    }

    /**
     * Reads a history file. A last line cut short (its worker was killed while writing it) is
     * dropped; a bad line anywhere else is an error.
     */
    static List<HistoryEvent> readAll(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read history " + file, e);
        }
        List<HistoryEvent> events = new ArrayList<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line.isBlank()) {
                continue;
            }
            try {
                events.add(fromJson(line));
            } catch (IllegalArgumentException | ClassCastException e) {
                if (i < lines.size() - 1) {
                    throw new IllegalArgumentException("history " + file + " line " + (i + 1) + ": " + e.getMessage(), e);
                }
            }
        }
        return events;
    }
}
