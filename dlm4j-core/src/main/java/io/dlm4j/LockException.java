package io.dlm4j;

/** Base of every exception dlm4j throws on purpose. */
public class LockException extends RuntimeException {

    public LockException(String message) {
        super(message);
    }

    public LockException(String message, Throwable cause) {
        super(message, cause);
    }
}
