// A request's token count before any upstream has seen it, for charging per-key TPM limits up
// front (the key pool corrects the charge once the answer reports its usage). Providers meter
// the same way: OpenAI's rate limiter counts the prompt's estimate plus max_tokens when the
// request arrives.
//
// The estimate is ceil(characters / 4) over the text the model reads (message contents, text
// parts, tool call arguments, tool definitions; embeddings' inputs), plus 3 per message and 3
// for the reply's priming (OpenAI's published chat counting recipe), plus max_tokens or
// max_completion_tokens if the client set one. A rule of thumb, not a tokenizer: it only has
// to be close enough for a per-minute budget, and it is corrected afterwards.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>

#include "providers/provider.h"

namespace sheepdog::gateway {

int64_t estimate_request_tokens(providers::Operation operation, const boost::json::object& body);

}  // namespace sheepdog::gateway
