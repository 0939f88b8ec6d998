// Server-Sent Events framing (https://html.spec.whatwg.org/multipage/server-sent-events.html):
// what a streaming handler passes to Responder::write() for `text/event-stream` responses.
#pragma once

#include <string>
#include <string_view>

namespace sheepdog::server {

// "data: <payload>\n\n". A payload with newlines becomes one `data:` line per line, which the
// SSE parser joins back with "\n"; "\r\n" and "\r" count as line ends too, as the spec says.
std::string format_sse_event(std::string_view data);

// "event: <name>\ndata: <payload>\n\n" (Anthropic's streams name their events). REQUIRES: name
// has no line break.
std::string format_sse_event(std::string_view event, std::string_view data);

// The OpenAI stream terminator, "data: [DONE]\n\n".
inline constexpr std::string_view kSseDone = "data: [DONE]\n\n";

}  // namespace sheepdog::server
