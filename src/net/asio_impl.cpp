// The one translation unit that compiles Asio's implementation
// (ASIO_SEPARATE_COMPILATION is set on the Asio::asio target).
#include <asio/impl/src.hpp>
