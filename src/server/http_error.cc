#include "server/http_error.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::server {

std::string error_body(const ApiError& error) {
  boost::json::object inner;
  inner["message"] = error.message;
  inner["type"] = error.type;
  inner["param"] = error.param ? boost::json::value(*error.param) : boost::json::value(nullptr);
  inner["code"] = error.code ? boost::json::value(*error.code) : boost::json::value(nullptr);
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

HttpResponse error_response(http::status status, const ApiError& error, unsigned version) {
  HttpResponse response{status, version};
  response.set(http::field::content_type, "application/json");
  response.body() = error_body(error);
  response.prepare_payload();
  return response;
}

}  // namespace sheepdog::server
