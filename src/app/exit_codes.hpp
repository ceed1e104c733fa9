#pragma once
// The exit codes every command (serve, lambda, doctor, users, migrate)
// shares, so a script around any of them tests them the same way. Code 1
// and codes above 3 are each command's own (doctor.hpp, users_command.hpp,
// main.cpp); usage errors keep CLI11's codes, 100 to 127.

namespace gatehouse::app {

inline constexpr int exit_ok = 0;
inline constexpr int exit_config = 2;       // the configuration does not load (or no AWS credentials)
inline constexpr int exit_unreachable = 3;  // the store cannot be reached or used

}  // namespace gatehouse::app
