package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * {@link Engine#preloadLibrary()}: called on other threads while this one opens an engine (as the CLI does
 * while it parses), every caller sees the library loaded and the engine works.
 */
class PreloadLibraryTest {
    @Test
    void preloadingBesideTheFirstUseLoadsTheLibraryOnce() throws Exception {
        CompletableFuture<Boolean> a = CompletableFuture.supplyAsync(Engine::preloadLibrary);
        CompletableFuture<Boolean> b = CompletableFuture.supplyAsync(Engine::preloadLibrary);
        try (Engine engine = Engine.open(Backend.CPU)) {
            assertEquals(Backend.CPU, engine.backend());
            assertFalse(Engine.version().isEmpty());
        }
        assertTrue(a.get() && b.get() && Engine.preloadLibrary());
    }
}
