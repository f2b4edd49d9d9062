package io.dlm4j;

/**
 * The backend failed, timed out or could not be reached. The message names the backend and its
 * address; the cause is the client library's exception, if there was one.
 */
public class LockBackendException extends LockException {

    public LockBackendException(String message) {
        super(message);
    }

    public LockBackendException(String message, Throwable cause) {
        super(message, cause);
    }
}
