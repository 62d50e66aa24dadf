# Cross toolchain for Cortex-M (newlib). Select the core with LINGER_ARM_CPU
# (cortex-m4 by default; cortex-m0plus for the M0+ build).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
if(NOT LINGER_ARM_CPU)
  set(LINGER_ARM_CPU cortex-m4)
endif()
set(CMAKE_C_FLAGS_INIT "-mcpu=${LINGER_ARM_CPU} -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_MINSIZEREL_INIT "-Os")
