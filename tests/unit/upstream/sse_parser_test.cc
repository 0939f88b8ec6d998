#include "upstream/sse_parser.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/random.h"

namespace sheepdog::upstream {
namespace {

std::vector<SseEvent> parse_all(std::string_view stream) {
  SseParser parser;
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.feed(stream, events));
  return events;
}

std::vector<SseEvent> parse_byte_by_byte(std::string_view stream) {
  SseParser parser;
  std::vector<SseEvent> events;
  for (char c : stream) {
    EXPECT_TRUE(parser.feed(std::string_view(&c, 1), events));
  }
  return events;
}

SseEvent ev(std::string event, std::string data, std::string id = "") {
  return SseEvent{std::move(event), std::move(data), std::move(id)};
}

TEST(SseParserTest, SingleDataEvent) {
  EXPECT_EQ(parse_all("data: {\"a\":1}\n\n"), std::vector<SseEvent>{ev("", "{\"a\":1}")});
}

TEST(SseParserTest, MultiLineDataIsJoinedByNewline) {
  EXPECT_EQ(parse_all("data: one\ndata: two\ndata:three\n\n"),
            std::vector<SseEvent>{ev("", "one\ntwo\nthree")});
}

TEST(SseParserTest, EventNameAndIdAndIdPersists) {
  const std::string stream =
      "event: message_start\nid: 7\ndata: a\n\n"
      "event: ping\ndata: b\n\n";
  EXPECT_EQ(parse_all(stream),
            (std::vector<SseEvent>{ev("message_start", "a", "7"), ev("ping", "b", "7")}));
}

TEST(SseParserTest, CommentsAndUnknownFieldsAreIgnored) {
  EXPECT_EQ(parse_all(": keep-alive\n\n:another\ndata: x\nfoo: bar\n: mid\n\n"),
            std::vector<SseEvent>{ev("", "x")});
}

TEST(SseParserTest, AllLineTerminators) {
  EXPECT_EQ(parse_all("data: a\r\n\r\ndata: b\r\rdata: c\n\ndata: d\r\ndata: e\r\n"),
            (std::vector<SseEvent>{ev("", "a"), ev("", "b"), ev("", "c")}));
  EXPECT_EQ(parse_all("data: d\r\ndata: e\r\n\r\n"), std::vector<SseEvent>{ev("", "d\ne")});
}

TEST(SseParserTest, CrAtChunkEndThenLfIsOneLineBreak) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("data: a\r", events);
  parser.feed("\ndata: b\r", events);
  EXPECT_TRUE(events.empty());
  parser.feed("\n\r", events);
  EXPECT_EQ(events, std::vector<SseEvent>{ev("", "a\nb")});
}

TEST(SseParserTest, CrAtChunkEndThenOtherByteEndsTheLine) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("data: a\r", events);
  parser.feed("\r", events);  // a second CR: an empty line, so the event is dispatched
  EXPECT_EQ(events, std::vector<SseEvent>{ev("", "a")});
}

TEST(SseParserTest, OnlyOneLeadingSpaceIsRemoved) {
  EXPECT_EQ(parse_all("data:  two spaces\ndata:none\n\n"),
            std::vector<SseEvent>{ev("", " two spaces\nnone")});
}

TEST(SseParserTest, FieldWithoutColonHasEmptyValue) {
  EXPECT_EQ(parse_all("data\n\n"), std::vector<SseEvent>{ev("", "")});
  EXPECT_EQ(parse_all("data\ndata\n\n"), std::vector<SseEvent>{ev("", "\n")});
}

TEST(SseParserTest, NoDataMeansNoEventAndTypeDoesNotCarryOver) {
  EXPECT_EQ(parse_all("event: lonely\n\ndata: x\n\n"), std::vector<SseEvent>{ev("", "x")});
}

TEST(SseParserTest, DoneSentinel) {
  std::vector<SseEvent> events = parse_all("data: {\"x\":1}\n\ndata: [DONE]\n\n");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_FALSE(events[0].is_done());
  EXPECT_TRUE(events[1].is_done());
  EXPECT_FALSE(ev("", "[DONE] ").is_done());
}

TEST(SseParserTest, RetryField) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("retry: 1500\n\n", events);
  EXPECT_EQ(parser.retry(), 1500u);
  parser.feed("retry: 15x\nretry: -1\nretry:\n\n", events);
  EXPECT_EQ(parser.retry(), 1500u);  // invalid values are ignored
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, IdWithNulIsIgnored) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed(std::string_view("id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n", 32), events);
  EXPECT_EQ(events, (std::vector<SseEvent>{ev("", "a", "1"), ev("", "b", "1")}));
  EXPECT_EQ(parser.last_event_id(), "1");
}

TEST(SseParserTest, ByteOrderMarkStrippedOnlyAtStart) {
  const std::string stream =
      "\xEF\xBB\xBF"
      "data: a\n\n\xEF\xBB\xBF"
      "data: b\n\n";
  // The second BOM is part of a field name ("\xEF\xBB\xBF" "data"), an unknown field.
  EXPECT_EQ(parse_all(stream), std::vector<SseEvent>{ev("", "a")});
  EXPECT_EQ(parse_byte_by_byte(stream), std::vector<SseEvent>{ev("", "a")});
  // A BOM prefix that turns out not to be one is kept as data.
  EXPECT_EQ(parse_byte_by_byte("\xEF"
                               "data: a\n\n"),
            std::vector<SseEvent>{});
  EXPECT_EQ(parse_byte_by_byte("data: a\n\n"), std::vector<SseEvent>{ev("", "a")});
}

TEST(SseParserTest, FinishDiscardsAnUnterminatedEvent) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.feed("data: a\n\ndata: partial\n", events);
  EXPECT_EQ(events, std::vector<SseEvent>{ev("", "a")});
  EXPECT_FALSE(parser.finish());
  parser.feed("data: b\n\n", events);  // the next stream starts clean
  EXPECT_EQ(events, (std::vector<SseEvent>{ev("", "a"), ev("", "b")}));
  EXPECT_TRUE(parser.finish());
}

TEST(SseParserTest, OversizedLineFailsTheStream) {
  SseParser parser(/*max_event_bytes=*/16);
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.feed("data: 0123456789", events));  // 16 bytes pending: at the limit
  EXPECT_FALSE(parser.feed("x", events));
  EXPECT_TRUE(parser.failed());
  EXPECT_FALSE(parser.feed("\n\n", events));  // ignored from now on
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, OversizedMultiLineEventFailsTheStream) {
  SseParser parser(/*max_event_bytes=*/10);
  std::vector<SseEvent> events;
  EXPECT_TRUE(parser.feed("data: 1234\ndata: 5678\n", events));  // 10 bytes of data buffer
  EXPECT_FALSE(parser.feed("data: 9\n", events));
  EXPECT_TRUE(events.empty());
}

TEST(SseParserTest, RealisticOpenAiStreamByteByByte) {
  const std::string stream =
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n"
      ": OPENROUTER PROCESSING\n\n"
      "data: {\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n"
      "data: [DONE]\n\n";
  const std::vector<SseEvent> expected = {
      ev("", "{\"id\":\"c1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}"),
      ev("", "{\"id\":\"c1\",\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}"), ev("", "[DONE]")};
  EXPECT_EQ(parse_all(stream), expected);
  EXPECT_EQ(parse_byte_by_byte(stream), expected);
}

TEST(SseParserTest, RealisticAnthropicStreamByteByByte) {
  const std::string stream =
      "event: message_start\r\ndata: {\"type\":\"message_start\"}\r\n\r\n"
      "event: ping\r\ndata: {\"type\": \"ping\"}\r\n\r\n"
      "event: content_block_delta\r\ndata: {\"delta\":{\"text\":\"a:b\"}}\r\n\r\n"
      "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";
  const std::vector<SseEvent> expected = {
      ev("message_start", "{\"type\":\"message_start\"}"), ev("ping", "{\"type\": \"ping\"}"),
      ev("content_block_delta", "{\"delta\":{\"text\":\"a:b\"}}"),
      ev("message_stop", "{\"type\":\"message_stop\"}")};
  EXPECT_EQ(parse_all(stream), expected);
  EXPECT_EQ(parse_byte_by_byte(stream), expected);
}

// A random stream and the events it must produce, built independently of the parser.
struct GeneratedStream {
  std::string bytes;
  std::vector<SseEvent> events;
};

GeneratedStream generate(RandomSource& random) {
  static constexpr std::string_view kAlphabet = "ab :{}\",09xyz";
  auto pick = [&](size_t n) { return static_cast<size_t>(random.next_u64() % n); };
  auto text = [&] {
    std::string s;
    for (size_t i = pick(12); i > 0; --i) {
      s.push_back(kAlphabet[pick(kAlphabet.size())]);
    }
    return s;
  };
  GeneratedStream out;
  bool last_was_cr = false;
  auto line = [&](const std::string& content) {
    static constexpr std::string_view kEnds[] = {"\n", "\r\n", "\r"};
    // An empty line right after a bare CR would read as the LF of a CRLF.
    std::string_view end = kEnds[pick(3)];
    if (last_was_cr && content.empty() && end == "\n") {
      end = "\r\n";
    }
    out.bytes += content;
    out.bytes += end;
    last_was_cr = end == "\r";
  };
  std::string last_id;
  for (size_t e = 1 + pick(8); e > 0; --e) {
    SseEvent event;
    if (random.chance(0.3)) {
      line(": " + text());
    }
    if (random.chance(0.5)) {
      event.event = "type" + std::to_string(pick(3));
      line("event: " + event.event);
    }
    if (random.chance(0.3)) {
      last_id = std::to_string(pick(1000));
      line("id: " + last_id);
    }
    for (size_t d = 1 + pick(3); d > 0; --d) {
      const std::string value = text();
      line("data: " + value);
      event.data += value + "\n";
    }
    event.data.pop_back();
    event.id = last_id;
    line("");
    out.events.push_back(std::move(event));
  }
  return out;
}

TEST(SseParserTest, PropertyAnySplitYieldsTheSameEvents) {
  SeededRandom random(20261124);
  for (int round = 0; round < 300; ++round) {
    const GeneratedStream stream = generate(random);
    ASSERT_EQ(parse_all(stream.bytes), stream.events) << "round " << round;
    SseParser parser;
    std::vector<SseEvent> events;
    size_t at = 0;
    while (at < stream.bytes.size()) {
      const size_t n = 1 + static_cast<size_t>(random.next_u64() % 9);
      ASSERT_TRUE(parser.feed(std::string_view(stream.bytes).substr(at, n), events));
      at += n;
    }
    EXPECT_EQ(events, stream.events) << "round " << round;
    EXPECT_TRUE(parser.finish()) << "round " << round;
  }
}

}  // namespace
}  // namespace sheepdog::upstream
