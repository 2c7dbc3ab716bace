# cmake -DIN=file -DOUT=file.c -P embed.cmake : writes the file as a C byte array.
file(READ ${IN} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR len "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE ${OUT} "/* Generated from ${IN} by embed.cmake; do not edit. */\n#include <stddef.h>\n"
  "extern const unsigned char eliza_default_script[];\nextern const size_t eliza_default_script_len;\n"
  "const unsigned char eliza_default_script[] = {\n${bytes}0x00};\n"
  "const size_t eliza_default_script_len = ${len};\n")
