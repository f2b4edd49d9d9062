package io.dlm4j.redis;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The lock operations' Lua scripts, read from the {@code .lua} files next to this class, where each
 * file says what it takes and answers. Every script is sent after the functions any of them may
 * call ({@code hold-value.lua}, {@code extend.lua}, {@code wake-waiters.lua}): a script run with
 * EVAL cannot call code stored on the server, and Redis Functions need Redis 7.
 */
record RedisScripts(LuaScript acquire, LuaScript refresh, LuaScript release, LuaScript undoAcquire,
                    LuaScript read, LuaScript recordToken) {

    static RedisScripts load() {
        String functions = text("hold-value.lua") + text("extend.lua") + text("wake-waiters.lua");
        return new RedisScripts(
                new LuaScript(functions + text("acquire.lua")),
                new LuaScript(functions + text("refresh.lua")),
                new LuaScript(functions + text("release.lua")),
                new LuaScript(functions + text("undo-acquire.lua")),
                new LuaScript(functions + text("read.lua")),
                new LuaScript(functions + text("record-token.lua")));
    }

    private static String text(String file) {
        try (InputStream in = RedisScripts.class.getResourceAsStream(file)) {
            if (in == null) {
                throw new IllegalStateException("the Lua script " + file + " is missing from the dlm4j-redis jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("could not read the Lua script " + file, e);
        }
    }
}
