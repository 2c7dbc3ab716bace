# Compiler flags shared by the kernel, the plugins and the tests.
set(EZ_WARNING_FLAGS -Wall -Wextra -Wshadow -Wformat=2 -Wpointer-arith -Wstrict-prototypes
    -Wmissing-prototypes -Wno-unused-parameter -fno-common)
if(EZ_WERROR)
  list(APPEND EZ_WARNING_FLAGS -Werror)
endif()
add_compile_options(${EZ_WARNING_FLAGS})
if(EZ_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
