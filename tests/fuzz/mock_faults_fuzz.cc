// Fuzz target: the mock's configuration decoders (mock/mock_config_decode.h) on one text: as a
// `--faults` YAML file, as the JSON body of POST /_mock/faults and of POST /_mock/script. A
// configuration that decodes is then used the way the mock uses it: latency samples and
// quantiles, token pacing and outcome draws for every profile, and the fault planner's
// decisions with the decoded script queued.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/random.h"
#include "fuzz/fuzz_support.h"
#include "mock/mock_config.h"
#include "mock/mock_config_decode.h"
#include "mock/mock_fault_planner.h"

namespace {

using sheepdog::mock::FaultProfile;
using sheepdog::mock::MockConfig;

void exercise(const FaultProfile& profile, sheepdog::RandomSource& random) {
  for (int i = 0; i < 4; ++i) {
    profile.latency.sample(random);
  }
  for (const double z : {-8.0, -1.0, 0.0, 1.0, sheepdog::mock::LatencySpec::kZ99, 8.0}) {
    profile.latency.at_z(z);
  }
  profile.token_delay(false);
  profile.token_delay(true);
  for (const double u : {0.0, 0.25, 0.5, 0.75, 0.999999}) {
    sheepdog::mock::pick_outcome(profile, u);
  }
}

void use(const MockConfig& config, const sheepdog::mock::ScriptUpdate* script) {
  sheepdog::SeededRandom random(1);
  exercise(config.defaults, random);
  for (const auto& [name, profile] : config.models) {
    exercise(profile, random);
    config.profile_for(name);
  }
  sheepdog::mock::FaultPlanner planner(config);
  if (script != nullptr) {
    planner.set_script(script->model, script->outcomes);
  }
  for (int i = 0; i < 4; ++i) {
    planner.next("gpt-4o-mini", random);
    if (script != nullptr && script->model) {
      planner.next(*script->model, random);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sheepdog::fuzz::as_text(data, size);
  const MockConfig base;

  MockConfig file;
  if (sheepdog::mock::decode_mock_config(text, "faults.yaml", base, &file).is_ok()) {
    use(file, nullptr);
  }
  MockConfig updated;
  if (sheepdog::mock::decode_fault_update(text, base, &updated).is_ok()) {
    use(updated, nullptr);
  }
  sheepdog::mock::ScriptUpdate script;
  if (sheepdog::mock::decode_script(text, &script).is_ok()) {
    use(base, &script);
  }
  return 0;
}
