package io.dlm4j.spi;

import io.dlm4j.Dlm;
import io.dlm4j.DlmOptions;

import java.util.Set;

/**
 * Makes a {@link Dlm} from a URI, for {@link io.dlm4j.Dlms#fromUri}. Backend artifacts register
 * theirs in {@code META-INF/services/io.dlm4j.spi.DlmProvider}.
 */
public interface DlmProvider {

    /** The URI schemes this provider serves, lower case ("mongodb", "mongodb+srv"). */
    Set<String> schemes();

    /**
     * A Dlm on the backend the URI names, with a client it creates and closes on
     * {@link Dlm#close()}.
     *
     * @throws IllegalArgumentException if the URI is malformed for this backend
     */
    Dlm create(String uri, DlmOptions options);
}
