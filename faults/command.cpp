// Remote commands are data: a template becomes an argv here, and the argv becomes one shell string here. No
// other place builds or quotes a remote command.
#include "faults/remote.h"
#include <algorithm>

namespace pgchaos::faults {
namespace {

std::string single_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=,@%+") ==
                           std::string::npos)
    return word;  // nothing the shell would interpret
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::vector<std::string> split_template(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (const char c : text) {
    if (quote != 0) {
      if (c == quote) quote = 0;
      else word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (quote != 0) throw FaultError("unterminated quote in command template: " + text);
  if (in_word) words.push_back(word);
  return words;
}

bool is_identifier(const std::string& text) {
  return !text.empty() && text.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") ==
                              std::string::npos;
}

}  // namespace

std::string Command::shell() const {
  std::string text;
  for (const auto& word : argv) text += (text.empty() ? "" : " ") + single_quote(word);
  return text;
}

Command expand(const std::string& command_template, const std::map<std::string, std::vector<std::string>>& values) {
  Command command;
  for (const auto& word : split_template(command_template)) {
    // A word that is exactly one placeholder takes all of a list's values, each its own word.
    if (word.size() > 2 && word.front() == '{' && word.back() == '}' && is_identifier(word.substr(1, word.size() - 2))) {
      const auto it = values.find(word.substr(1, word.size() - 2));
      if (it == values.end()) throw FaultError("unknown placeholder " + word + " in: " + command_template);
      command.argv.insert(command.argv.end(), it->second.begin(), it->second.end());
      continue;
    }
    std::string expanded;
    for (std::size_t i = 0; i < word.size();) {
      const auto close = word[i] == '{' ? word.find('}', i) : std::string::npos;
      // A placeholder is {identifier}; any other brace (nft's "{ type filter ... }") is the command's own.
      if (close == std::string::npos || !is_identifier(word.substr(i + 1, close - i - 1))) {
        expanded += word[i++];
        continue;
      }
      const auto it = values.find(word.substr(i + 1, close - i - 1));
      if (it == values.end() || it->second.size() != 1)
        throw FaultError("unknown or list placeholder " + word.substr(i, close - i + 1) + " in: " + command_template);
      expanded += it->second.front();
      i = close + 1;
    }
    command.argv.push_back(expanded);
  }
  if (command.argv.empty()) throw FaultError("empty command template");
  return command;
}

std::string failure_text(const CommandResult& result) {
  std::vector<std::string> decisive;
  std::string last;
  for (const std::string* stream : {&result.err, &result.out}) {
    std::size_t begin = 0;
    while (begin < stream->size()) {
      const auto end = std::min(stream->find('\n', begin), stream->size());
      std::string line = stream->substr(begin, end - begin);
      begin = end + 1;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
      const auto first = line.find_first_not_of(' ');
      if (first == std::string::npos) continue;
      last = line.substr(first);
      // patronictl prints the cluster's topology before it acts: its title and its table are not the reason.
      if (last == "Current cluster topology" || last[0] == '+' || last[0] == '|') continue;
      // Both streams may hold a line (the catalog adds a refusal's stdout to its stderr): once is enough.
      if (std::find(decisive.begin(), decisive.end(), last) == decisive.end()) decisive.push_back(last);
    }
  }
  if (decisive.empty()) return last;
  std::string text = decisive.front();
  for (std::size_t i = 1; i < decisive.size(); ++i) text += " / " + decisive[i];
  return text;
}

}  // namespace pgchaos::faults
