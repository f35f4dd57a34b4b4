package dev.dyepack.serve;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The table of API clients: a text file with one client per line, {@code API_KEY CLIENT_ID} separated by
 * white space; blank lines and lines starting with {@code #} are skipped. The keys are secrets (keep the file
 * private); only the client ids reach the log and messages.
 */
public final class ClientTable {
    private ClientTable() {}

    /**
     * Reads a client table.
     *
     * @param file the file
     * @return API key to client id
     * @throws InvalidInputException if the file cannot be read, a line is not two fields, a client id is not
     *                               1 to 128 letters, digits or {@code ._@:+-}, or a key or id appears twice
     *                               (messages name the line, never the key)
     */
    public static Map<String, String> read(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read the client table: " + e.getMessage(), e);
        }
        Map<String, String> out = new HashMap<>();
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\\s+");
            String where = file + ":" + (i + 1);
            if (f.length != 2) {
                throw new InvalidInputException(where + ": expected 'API_KEY CLIENT_ID', got " + f.length + " fields");
            }
            if (!f[1].matches("[A-Za-z0-9._@:+-]{1,128}")) {
                throw new InvalidInputException(where + ": a client id is 1 to 128 letters, digits or ._@:+-");
            }
            if (out.put(f[0], f[1]) != null) {
                throw new InvalidInputException(where + ": this API key is already given to another client");
            }
            if (!ids.add(f[1])) {
                throw new InvalidInputException(where + ": client id " + f[1] + " appears twice");
            }
        }
        if (out.isEmpty()) {
            throw new InvalidInputException(file + ": the client table names no client");
        }
        return out;
    }
}
