// The one translation unit that compiles Asio's implementation
// (ASIO_SEPARATE_COMPILATION is set on the Asio::asio target), asio::ssl's too.
#include <asio/impl/src.hpp>
#include <asio/ssl/impl/src.hpp>
