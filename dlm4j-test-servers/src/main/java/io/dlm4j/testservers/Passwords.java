package io.dlm4j.testservers;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Random passwords for the database launchers' superusers. Random rather than fixed so that a test
 * that forgot to pass the password fails instead of passing by luck; hex, so that no quoting in
 * SQL, a command line or a JDBC URL can go wrong.
 */
final class Passwords {

    private static final SecureRandom RANDOM = new SecureRandom();

    private Passwords() {
    }

    static String random() {
        byte[] bytes = new byte[12];
        RANDOM.nextBytes(bytes);
        return "pw" + HexFormat.of().formatHex(bytes);
    }
}
