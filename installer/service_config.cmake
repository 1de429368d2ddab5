# Makes /etc/bourse/bourse.toml, the config file of bourse.service, from the shipped default config: the same
# file with its data_dir line made active and set to the service's state directory. Run at build time:
#   cmake -DINPUT=resources/bourse.toml -DOUTPUT=<build>/installer/bourse.toml -P service_config.cmake
# Fails when the default file has no commented-out data_dir line to turn on (its format changed).
cmake_minimum_required(VERSION 3.25)

foreach(variable INPUT OUTPUT)
    if(NOT DEFINED ${variable})
        message(FATAL_ERROR "service_config.cmake: -D${variable}=... is missing")
    endif()
endforeach()

file(READ "${INPUT}" text)
set(pattern "\n# data_dir = [^\n]*\n")
string(REGEX MATCHALL "${pattern}" matches "${text}")
list(LENGTH matches count)
if(NOT count EQUAL 1)
    message(FATAL_ERROR "service_config.cmake: ${INPUT}: expected one commented-out `# data_dir = ...` line, "
                        "found ${count}")
endif()
string(REGEX REPLACE "${pattern}" [[

# The bourse.service unit runs `bourse --headless --config /etc/bourse/bourse.toml` as the user bourse, and
# its venue lives in the state directory systemd gives it, /var/lib/bourse: keep this line.
data_dir = "/var/lib/bourse"
]] text "${text}")
set(header [[
# /etc/bourse/bourse.toml: the config file of the headless venue that bourse.service runs. It is the
# default config file of the package with data_dir set; edit it, check it with
# `bourse config check /etc/bourse/bourse.toml`, then `systemctl restart bourse`. It is root:bourse, mode
# 0640 (the package's postinst sets that): a database_url here may hold a password.
#
]])
file(WRITE "${OUTPUT}" "${header}${text}")
