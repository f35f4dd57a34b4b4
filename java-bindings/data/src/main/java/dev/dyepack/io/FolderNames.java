package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * File names of images in a copy of an image folder whose images may move between class folders
 * (dirty-label poisoning moves the poisoned images into the target's folder).
 *
 * <p>The rule: an image that stays in its class keeps its name. A moved image keeps its name where its new
 * class folder holds no file of that name; of several moved images with one name, the first in dataset
 * order keeps it. Any other moved image takes the next free name of its own pattern in that folder: its
 * name is read as {@code <prefix><digits><suffix>.<ext>} (the last run of digits in the name before the
 * extension; a name without digits as {@code <name>_<digits>}), and it gets the number one above the
 * highest number any name of that pattern has in the folder, zero-padded to its own digit count
 * ({@code img00101.png} in a folder holding {@code img00000.png .. img00999.png} becomes
 * {@code img01000.png}; {@code cat.jpg} becomes {@code cat_1.jpg}). Same extension, same prefix and
 * suffix, same width: the file looks like its neighbours, and its bytes (format, size, metadata) are
 * untouched by the renaming.
 *
 * <p>What it leaks: a renamed image's number lies past the folder's own range, so in a folder whose
 * classes are all numbered from the same start, the images past the target class's usual last number are
 * exactly the moved ones that collided. No choice of a new name avoids that without renaming the target's
 * own images, which would change files that were not poisoned; an owner who must hide it gives the files
 * names unique across classes (content hashes, or a class prefix) before poisoning, or poisons with
 * clean labels (nothing moves).
 *
 * <p>Stateless and thread-safe.
 */
final class FolderNames {
    /** {@code <prefix><digits><suffix>} of a name's stem: the last run of digits. */
    private static final Pattern NUMBERED = Pattern.compile("^(.*?)(\\d+)(\\D*)$", Pattern.DOTALL);

    private FolderNames() {
    }

    /**
     * The output name of every image.
     *
     * @param names      the input file names, by image index
     * @param fromLabels every image's input class
     * @param toLabels   every image's output class, each in [0, classes)
     * @param classes    the number of class folders
     * @return the output file name of every image inside its output class folder, by image index
     * @throws InvalidArgumentException if the arrays differ in length, or an image that stays in its class
     *                                  shares its name with another one that stays in the same class
     */
    static String[] assign(String[] names, int[] fromLabels, long[] toLabels, int classes) {
        if (names.length != fromLabels.length || names.length != toLabels.length) {
            throw new InvalidArgumentException("names, fromLabels and toLabels must have one length");
        }
        List<Set<String>> taken = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            taken.add(new HashSet<>());
        }
        String[] out = new String[names.length];
        for (int i = 0; i < names.length; i++) {
            if (fromLabels[i] == toLabels[i]) {
                if (!taken.get(fromLabels[i]).add(names[i])) {
                    throw new InvalidArgumentException("two images of one class folder are named " + names[i]);
                }
                out[i] = names[i];
            }
        }
        List<Integer> collided = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            if (fromLabels[i] != toLabels[i]) {
                if (taken.get((int) toLabels[i]).add(names[i])) {
                    out[i] = names[i];
                } else {
                    collided.add(i);
                }
            }
        }
        // Highest number in use per folder and pattern, found once per pattern and kept up to date.
        Map<String, BigInteger> highest = new HashMap<>();
        for (int i : collided) {
            int c = (int) toLabels[i];
            Name n = Name.of(names[i]);
            String key = c + "/" + n.patternKey();
            BigInteger top = highest.computeIfAbsent(key, k -> n.highestIn(taken.get(c)));
            BigInteger next = top.add(BigInteger.ONE);
            String fresh = n.withNumber(next);
            // The number is above every number of the pattern in the folder, so the name is free.
            if (!taken.get(c).add(fresh)) {
                throw new IllegalStateException("name " + fresh + " is taken in class folder " + c);
            }
            highest.put(key, next);
            out[i] = fresh;
        }
        return out;
    }

    /** A file name read as {@code <prefix><digits><suffix><ext>} ({@code ext} with its dot, may be empty). */
    private record Name(String prefix, int width, String suffix, String ext) {
        static Name of(String name) {
            int dot = name.lastIndexOf('.');
            String stem = dot > 0 ? name.substring(0, dot) : name;
            String ext = dot > 0 ? name.substring(dot) : "";
            Matcher m = NUMBERED.matcher(stem);
            if (m.matches()) {
                return new Name(m.group(1), m.group(2).length(), m.group(3), ext);
            }
            return new Name(stem + "_", 1, "", ext);
        }

        String patternKey() {
            return prefix + "\0" + suffix + "\0" + ext;
        }

        /** The number of {@code name} if it has this pattern (any digit count), else null. */
        BigInteger numberOf(String name) {
            if (!name.startsWith(prefix) || !name.endsWith(suffix + ext)
                    || name.length() <= prefix.length() + suffix.length() + ext.length()) {
                return null;
            }
            String digits = name.substring(prefix.length(), name.length() - suffix.length() - ext.length());
            for (int k = 0; k < digits.length(); k++) {
                if (digits.charAt(k) < '0' || digits.charAt(k) > '9') {
                    return null;
                }
            }
            return new BigInteger(digits);
        }

        BigInteger highestIn(Set<String> names) {
            BigInteger top = BigInteger.ZERO;
            for (String s : names) {
                BigInteger v = numberOf(s);
                if (v != null && v.compareTo(top) > 0) {
                    top = v;
                }
            }
            return top;
        }

        String withNumber(BigInteger n) {
            StringBuilder digits = new StringBuilder(n.toString());
            while (digits.length() < width) {
                digits.insert(0, '0');
            }
            return prefix + digits + suffix + ext;
        }
    }
}
