package dev.dyepack.examples.dl4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.key.OwnerKey;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the example as CI does: a DL4J network trained with on-the-fly poisoning carries a watermark
 * the verification API detects, the same network trained on clean data does not, and the manifest
 * verifies. (A short run: 800 images, 10 epochs of a one-hidden-layer network.)
 */
class Dl4jPoisoningExampleTest {
    @TempDir
    Path dir;

    @Test
    void theWatermarkOfOnTheFlyPoisoningIsDetectedAndTheHonestPeerIsNot() throws IOException {
        OwnerKey key = new OwnerKey("example test key: 32 random bytes!".getBytes(StandardCharsets.UTF_8));
        Dl4jPoisoningExample.Outcome o = Dl4jPoisoningExample.run(dir, key, Dl4jPoisoningExample.EPOCHS);
        System.err.println("watermarked: " + o.poisoned());
        System.err.println("honest:      " + o.honest());
        assertTrue(o.manifestOk(), "the signed manifest verifies under the owner's key");
        assertEquals(40, o.poisonedCount(), "5% of 800");
        assertTrue(Files.exists(dir.resolve("manifest.json")));
        assertTrue(o.poisoned().detected(), "the watermark is detected: " + o.poisoned());
        assertFalse(o.honest().detected(), "the honest network is not accused: " + o.honest());
        assertTrue(o.poisoned().cleanAccuracy() > 0.6, "the watermarked network still classifies: "
                + o.poisoned().cleanAccuracy());
    }
}
