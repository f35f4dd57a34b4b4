/**
 * DyePack for the JavaCPP CUDA presets ({@code org.bytedeco:cuda} 13.x): a caller's {@code cudaStream_t}
 * ({@link org.bytedeco.cuda.cudart.CUstream_st}) and device pointers from {@code cudaMalloc} go to the
 * CUDA engine without a copy, and the engine's work is ordered on the caller's stream
 * ({@link dev.dyepack.cuda.CudaPresets}). Never a dependency of the engine or the CLI.
 */
package dev.dyepack.cuda;
