package io.dlm4j.mongo;

import com.mongodb.event.CommandFailedEvent;
import com.mongodb.event.CommandListener;
import com.mongodb.event.CommandStartedEvent;
import org.bson.BsonDocument;
import org.bson.BsonValue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Records the commands a {@code MongoClient} sends, for tests that count round trips or look at
 * what a command carries. Register it with {@code MongoClientSettings.builder().addCommandListener}.
 */
final class CommandRecorder implements CommandListener {

    /** Commands of the driver itself (handshake, monitoring, sessions) and the one-off index setup. */
    static final Set<String> DRIVER_COMMANDS = Set.of("hello", "ismaster", "isMaster", "ping", "endSessions",
            "createIndexes", "buildInfo", "saslStart", "saslContinue", "killCursors", "getMore");

    record Command(String name, BsonDocument body) {
        /** The filter of a findAndModify ({@code query}), find ({@code filter}) or the first update statement. */
        BsonDocument filter() {
            if (body.containsKey("query")) {
                return body.getDocument("query");
            }
            if (body.containsKey("filter")) {
                return body.getDocument("filter");
            }
            if (body.containsKey("updates")) {
                return body.getArray("updates").get(0).asDocument().getDocument("q");
            }
            return new BsonDocument();
        }

        /** The {@code _id} this command's filter names at its top level or inside a top-level {@code $and}. */
        BsonValue filteredId() {
            BsonDocument filter = filter();
            if (filter.containsKey("_id")) {
                return filter.get("_id");
            }
            if (filter.containsKey("$and")) {
                for (BsonValue clause : filter.getArray("$and")) {
                    if (clause.isDocument() && clause.asDocument().containsKey("_id")) {
                        return clause.asDocument().get("_id");
                    }
                }
            }
            return null;
        }

        /** The ServerClock's probe: a findAndModify (or ping's find) on {@code {_id: {clockOf: "dlm4j"}}}. */
        boolean isClockProbe() {
            BsonValue id = filteredId();
            return id != null && id.isDocument() && id.asDocument().containsKey("clockOf");
        }

        boolean isDriverCommand() {
            return DRIVER_COMMANDS.contains(name);
        }
    }

    record Failure(String name, Throwable error) {
    }

    private final List<Command> started = new CopyOnWriteArrayList<>();
    private final List<Failure> failed = new CopyOnWriteArrayList<>();

    @Override
    public void commandStarted(CommandStartedEvent event) {
        // the event's document is only valid during the callback
        started.add(new Command(event.getCommandName(), event.getCommand().clone()));
    }

    @Override
    public void commandFailed(CommandFailedEvent event) {
        failed.add(new Failure(event.getCommandName(), event.getThrowable()));
    }

    void clear() {
        started.clear();
        failed.clear();
    }

    List<Command> all() {
        return List.copyOf(started);
    }

    /** Commands of the lock operations: neither the driver's own nor the clock probe. */
    List<Command> lockCommands() {
        return started.stream().filter(c -> !c.isDriverCommand() && !c.isClockProbe()).toList();
    }

    List<String> lockCommandNames() {
        return lockCommands().stream().map(Command::name).toList();
    }

    List<Failure> failures() {
        return List.copyOf(failed);
    }
}
