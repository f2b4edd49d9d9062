package io.dlm4j.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.async.RedisAsyncCommands;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script run with EVALSHA, falling back once to EVAL (which also caches it on the server)
 * when the server answers NOSCRIPT, after a restart or a SCRIPT FLUSH. One round trip either way
 * in the common case.
 */
final class LuaScript {

    private final String text;
    private final String sha1;

    LuaScript(String text) {
        this.text = text;
        this.sha1 = sha1(text);
    }

    CompletableFuture<List<Object>> run(RedisAsyncCommands<String, String> redis, String[] keys, String... args) {
        CompletableFuture<List<Object>> bySha = redis.<List<Object>>evalsha(sha1, ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture();
        // the common case completes as it is: no stage is added unless the server lacks the script
        CompletableFuture<List<Object>> result = new CompletableFuture<>();
        bySha.whenComplete((reply, failure) -> {
            if (failure == null) {
                result.complete(reply);
            } else if (unwrap(failure) instanceof RedisNoScriptException) {
                redis.<List<Object>>eval(text, ScriptOutputType.MULTI, keys, args).whenComplete((again, error) -> {
                    if (error == null) {
                        result.complete(again);
                    } else {
                        result.completeExceptionally(unwrap(error));
                    }
                });
            } else {
                result.completeExceptionally(unwrap(failure));
            }
        });
        return result;
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private static String sha1(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-1", e);
        }
    }
}
