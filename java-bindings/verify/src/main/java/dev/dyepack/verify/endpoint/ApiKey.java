package dev.dyepack.verify.endpoint;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

/**
 * A prediction service's API key and the header that carries it. The value is a secret: it is sent
 * only in its header, and {@link #toString()} never shows it (so a settings record or a log line that
 * prints one cannot leak it).
 */
public final class ApiKey {
    /** The environment variable read when no key file is given. */
    public static final String ENV_VAR = "DYEPACK_API_KEY";
    /** The default header; its value is {@code Bearer <key>}. Any other header carries the key as is. */
    public static final String DEFAULT_HEADER = "Authorization";

    private final String header;
    private final String value;

    private ApiKey(String header, String value) {
        this.header = header;
        this.value = value;
    }

    /**
     * A key for a header.
     *
     * @param header the header's name (for {@link #DEFAULT_HEADER} the value sent is {@code Bearer <key>})
     * @param key    the key, without surrounding white space
     * @return the key
     * @throws InvalidInputException if the header name is not a valid HTTP token or the key is empty or
     *                               holds a line break or control character
     */
    public static ApiKey of(String header, String key) {
        if (header == null || !header.matches("[!#$%&'*+.^_`|~0-9A-Za-z-]+")) {
            throw new InvalidInputException("the API key header name " + header + " is not a valid HTTP header name");
        }
        if (key == null || key.isEmpty()) {
            throw new InvalidInputException("the API key is empty");
        }
        for (int i = 0; i < key.length(); i++) {
            char c = key.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                throw new InvalidInputException("the API key holds a control character or line break; an HTTP header "
                        + "cannot carry it");
            }
        }
        return new ApiKey(header, header.equalsIgnoreCase(DEFAULT_HEADER) ? "Bearer " + key : key);
    }

    /**
     * The key from a file (its text, white space around it removed), else from {@link #ENV_VAR}.
     *
     * @param header the header's name
     * @param file   the key file, or null
     * @param env    the environment
     * @return the key, or empty when neither is given
     * @throws InvalidInputException if the file cannot be read or the key is unusable (see {@link #of})
     */
    public static Optional<ApiKey> resolve(String header, Path file, Map<String, String> env) {
        String key;
        if (file != null) {
            try {
                key = Files.readString(file, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                throw new InvalidInputException("cannot read the API key file " + file + ": " + e.getMessage(), e);
            }
            if (key.isEmpty()) {
                throw new InvalidInputException("the API key file " + file + " is empty");
            }
        } else {
            key = env.get(ENV_VAR);
            if (key == null || key.isBlank()) {
                return Optional.empty();
            }
            key = key.strip();
        }
        return Optional.of(of(header, key));
    }

    /** @return the header's name */
    public String header() {
        return header;
    }

    /** @return the header's value; the secret, for the HTTP request only */
    String headerValue() {
        return value;
    }

    @Override
    public String toString() {
        return "ApiKey[" + header + ": (secret)]";
    }
}
