# Removes a CMake build directory that belongs to another source tree, so that a copied or moved
# checkout configures afresh instead of failing on the stale CMakeCache.txt ("The current
# CMakeCache.txt directory ... is different than the directory ... where CMakeCache.txt was created").
#
#   cmake -DSOURCE_DIR=<the native/ folder> -DBUILD_DIR=<its build folder> -P fresh-build-dir.cmake
#
# The build directory is removed when its CMakeCache.txt records another CMAKE_HOME_DIRECTORY (the
# sources moved) or another CMAKE_CACHEFILE_DIR (the build folder itself moved), or when the cache
# cannot be read or has no such entry. A missing build directory or cache is left alone. Run before
# configuring: scripts/native-build.sh does, and so can Maven (an exec execution before
# cmake-configure). As a safeguard it never removes a folder that is, or contains, the sources.
cmake_minimum_required(VERSION 3.20)

foreach(var SOURCE_DIR BUILD_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "fresh-build-dir.cmake: pass -D${var}=<path> (usage: cmake -DSOURCE_DIR=<native> "
                        "-DBUILD_DIR=<build> -P fresh-build-dir.cmake)")
  endif()
endforeach()

get_filename_component(source "${SOURCE_DIR}" REALPATH)
get_filename_component(build "${BUILD_DIR}" REALPATH)
set(cache "${build}/CMakeCache.txt")
if(NOT EXISTS "${cache}")
  return()
endif()

# Read through `cmake -E cat`, so that an unreadable cache is a result, not a fatal error here.
execute_process(COMMAND "${CMAKE_COMMAND}" -E cat "${cache}" RESULT_VARIABLE read_failed OUTPUT_VARIABLE text
                ERROR_QUIET)
set(why "")
if(read_failed)
  set(why "its CMakeCache.txt cannot be read")
else()
  string(REGEX MATCH "(^|\n)CMAKE_HOME_DIRECTORY:INTERNAL=([^\n]*)" home_line "${text}")
  set(home "${CMAKE_MATCH_2}")
  string(REGEX MATCH "(^|\n)CMAKE_CACHEFILE_DIR:INTERNAL=([^\n]*)" dir_line "${text}")
  set(cachefile_dir "${CMAKE_MATCH_2}")
  if(home STREQUAL "")
    set(why "its CMakeCache.txt records no source directory")
  else()
    get_filename_component(home_real "${home}" REALPATH)
    if(NOT home_real STREQUAL source)
      set(why "it was configured for the sources in ${home}, not ${source}")
    elseif(NOT cachefile_dir STREQUAL "")
      get_filename_component(cachefile_real "${cachefile_dir}" REALPATH)
      if(NOT cachefile_real STREQUAL build)
        set(why "it was configured in ${cachefile_dir}, not ${build}")
      endif()
    endif()
  endif()
endif()
if(why STREQUAL "")
  return()
endif()

string(FIND "${source}/" "${build}/" at)
if(build STREQUAL "/" OR at EQUAL 0)
  message(FATAL_ERROR "fresh-build-dir.cmake: ${build} is stale (${why}) but is or contains the sources; remove its "
                      "CMakeCache.txt by hand")
endif()
message(STATUS "Removing the stale build directory ${build}: ${why}")
file(REMOVE_RECURSE "${build}")
