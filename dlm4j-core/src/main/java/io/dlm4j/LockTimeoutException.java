package io.dlm4j;

/** {@link Mutex#lock(java.time.Duration)} did not acquire the lock within its maximum wait. */
public class LockTimeoutException extends LockException {

    public LockTimeoutException(String message) {
        super(message);
    }
}
