#pragma once
// Asserts that a call throws gatehouse::error of one kind with one contract
// code: the outcome a client would see, not merely "it threw".
#include "base/error.hpp"

#include <gtest/gtest.h>

#include <exception>
#include <string>
#include <string_view>

namespace gatehouse::testing {

template <class F>
::testing::AssertionResult throws_error(F&& call, error_kind kind, std::string_view code,
                                        std::string_view field = {}) {
  try {
    call();
  } catch (const error& e) {
    if (e.kind() == kind && e.code() == code && e.field() == field)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "threw kind " << static_cast<int>(e.kind()) << " code '" << e.code() << "' field '"
           << e.field() << "' (" << e.what() << "), expected kind " << static_cast<int>(kind)
           << " code '" << code << "' field '" << field << "'";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a non-gatehouse exception: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

}  // namespace gatehouse::testing
