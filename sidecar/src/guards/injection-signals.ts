// The prompt-injection signals: the phrases of each category as regexes with their weights, the
// anchors that decide which text is worth running them on, the co-occurrence vocabulary, and what
// marks text that discusses injection rather than attempts it. Data, kept apart from the scoring
// in injection.ts; measured against test/corpus/prompt-injection.jsonl.
//
// Characters above U+00FF (curly quotes, dashes) are written as \u escapes: V8 holds a source file
// with even one of them at two bytes a character, and in the bundle that file is main.js.
export type InjectionCategory =
  | 'instruction-override'
  | 'role-hijack'
  | 'prompt-extraction'
  | 'delimiter'
  | 'encoding'
  | 'indirect'
  | 'exfiltration';

export interface Signal {
  category: InjectionCategory;
  weight: number;
  re: RegExp;
  /** Only in tool results and documents (instructions there are out of place). */
  indirectOnly?: boolean;
}

const W = String.raw;
// Things the model was told, as an attacker names them.
const ORDERS = W`(?:instructions?|prompts?|directions?|directives?|rules|guidelines|guardrails|restrictions|constraints|programming|commands|context|system (?:prompt|message))`;
const EARLIER = W`(?:previous|prior|above|earlier|preceding|former|initial|original|system|existing|old|current|given|developer)`;

// The verbs of the exfiltration signal that names a destination, and its e-mail address (the
// local part's last character, then the domain: enough for the anchor, linear to search).
const SEND_VERBS = 'send|forward|post|upload|email|transmit|exfiltrate|leak|append';
const ADDRESS_END = String.raw`[\w.+-]@[\w-]+\.`;

const RAW_SIGNALS: readonly Signal[] = [
  // Instruction override: "ignore all previous instructions" and its many spellings.
  {
    category: 'instruction-override',
    weight: 60,
    re: new RegExp(
      W`\b(?:ignore|disregard|forget|override|bypass|neglect|discard|abandon|set\s+aside)\s+(?:(?:all|any|the|your|these|those|every|of|above|prior)\s+){0,4}${EARLIER}\s+(?:\w+\s+)?${ORDERS}`,
      'i',
    ),
  },
  {
    category: 'instruction-override',
    weight: 55,
    re: new RegExp(
      W`\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+)?(?:of\s+)?(?:your|the\s+system(?:'s)?|the\s+developer(?:'s)?)\s+${ORDERS}|\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+)?(?:the\s+)?${ORDERS}\s+(?:in|from|of)\s+(?:your|the)\s+(?:system|developer|prompt|initial|original)`,
      'i',
    ),
  },
  {
    category: 'instruction-override',
    weight: 50,
    re: /\b(?:ignore|disregard|forget)\s+(?:everything|all|anything|whatever)\s+(?:(?:that\s+)?(?:you(?:'ve|\s+have|\s+were)?|the\s+(?:developer|system))\s+(?:been\s+)?(?:told|taught|instructed|said|says)|(?:written\s+)?(?:above|before|prior|previously|earlier))|\bignore\s+what\s+(?:the\s+(?:developer|system|admin)|your\s+(?:developer|creators?|instructions))\s+(?:said|says|told)/i,
  },
  {
    category: 'instruction-override',
    weight: 55,
    re: new RegExp(
      W`\b(?:ignore|disregard|forget|override|bypass|neglect|discard)\s+(?:(?:all|any|the|your|these|those|every|of)\s+){0,3}(?:system\s+(?:message|prompt|instructions)|${ORDERS}\s+(?:(?:that\s+)?you(?:'ve|\s+have)?\s+(?:received|been\s+given|were\s+given|got)|(?:given|provided|sent)\s+to\s+you|so\s+far|above|before\s+this))`,
      'i',
    ),
  },
  {
    category: 'instruction-override',
    weight: 50,
    re: /\b(?:ignore|override|disable|turn\s+off|switch\s+off|bypass|deactivate|remove)\s+your\s+(?:safety|content|ethical|moral)?\s*(?:settings|filters?|guardrails|restrictions|guidelines|policies|protocols|rules|safeguards)|\b(?:safety|content|ethical)\s+(?:protocols?|filters?|guardrails|restrictions|settings|safeguards)\s+(?:are\s+|have\s+been\s+|now\s+)?(?:disabled|off|deactivated|removed|lifted|bypassed|suspended)/i,
  },
  {
    category: 'instruction-override',
    weight: 50,
    re: new RegExp(
      W`\b(?:do\s+not|don't|stop|no\s+longer)\s+(?:follow(?:ing)?|obey(?:ing)?|adher(?:e|ing)\s+to|comply(?:ing)?\s+with|listen(?:ing)?\s+to)\s+(?:your|the|any)\s+(?:${EARLIER}\s+)?${ORDERS}`,
      'i',
    ),
  },
  {
    category: 'instruction-override',
    weight: 55,
    re: /\bnew\s+(?:system\s+)?(?:instructions|rules|directives?)\s*[:\-\u2014]\s*(?:you\s+(?:are|must|will|should|shall)|always|never|ignore|from\s+now)/i,
  },
  {
    category: 'instruction-override',
    weight: 40,
    re: /\b(?:your|the)\s+(?:new|real|true|actual|updated)\s+(?:instructions|task|purpose|goal|objective|directive|mission)\s+(?:is|are|now)\b|\bnew\s+(?:system\s+)?(?:instructions|rules|directives?)\s*(?:[:\-\u2014]|follow)/i,
  },
  {
    category: 'instruction-override',
    weight: 50,
    re: /\b(?:ignora|olvida)\s+(?:todas\s+)?(?:las\s+)?instrucciones\s+(?:anteriores|previas)|\bignor(?:e|ez)\s+(?:toutes\s+)?les\s+instructions\s+(?:précédentes|precedentes|antérieures)|\bignorier(?:e|en\s+sie)\s+(?:alle\s+)?(?:vorherigen|bisherigen|obigen)\s+(?:anweisungen|instruktionen|befehle)|\bignora\s+(?:tutte\s+)?le\s+istruzioni\s+precedenti|\bignore\s+(?:todas\s+)?as\s+instruções\s+anteriores/i,
  },
  {
    category: 'instruction-override',
    weight: 35,
    re: new RegExp(
      W`\b(?:the\s+)?${EARLIER}\s+${ORDERS}\s+(?:no\s+longer\s+apply|are\s+(?:void|revoked|cancell?ed|null|obsolete|lifted))|\bcomply\s+with\s+(?:all|every|any)\s+(?:requests?|instructions|commands)|\b(?:system|admin|security)\s+override\b|\b(?:grant|give)\s+(?:the\s+user|me)\s+(?:admin|root|full|elevated)\s+(?:privileges|access|rights|permissions)`,
      'i',
    ),
  },
  {
    category: 'instruction-override',
    weight: 30,
    re: /\bthe\s+user\s+(?:is|has\s+been)\s+(?:a\s+|an\s+)?(?:verified\s+|authorized\s+|authenticated\s+)?(?:administrator|admin|developer|root|superuser|owner)\b|\bthe\s+user\s+has\s+(?:admin|root|full|elevated)\s+(?:rights|access|privileges|permissions)/i,
  },
  {
    category: 'instruction-override',
    weight: 30,
    re: /\bfrom\s+now\s+on,?\s+(?:you\s+(?:will|must|are|shall|should|only)|respond|answer|act|always|never|only)|\b(?:instead|rather),?\s+(?:you\s+(?:must|will|should)|do\s+(?:the\s+)?following)\b/i,
  },
  {
    category: 'instruction-override',
    weight: 50,
    re: /\bignore\s+(?:all\s+|any\s+|your\s+)?(?:safety|content|ethical|moral)\s+(?:filters|guardrails|restrictions|guidelines|policies|rules)/i,
  },
  // Role hijack: personas without rules, "developer mode", DAN.
  {
    category: 'role-hijack',
    weight: 50,
    re: /\b(?:act|behave|respond|operate|function)\s+as\s+(?:if\s+you\s+(?:were|are)\s+)?(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|unaligned|evil|rogue|amoral|unbound)|\b(?:you\s+are\s+(?:now\s+)?in|enable|activate|enter|switch\s+to|turn\s+on)\s+(?:the\s+)?(?:god|jailbreak|jailbroken|unrestricted|dan|evil|unfiltered|chaos)\s+mode\b/i,
  },
  {
    category: 'role-hijack',
    weight: 25,
    re: /\b(?:you\s+are\s+(?:now\s+)?in|enable|activate|enter|switch\s+to|turn\s+on)\s+(?:the\s+)?(?:developer|debug|admin|maintenance|sudo)\s+mode\b/i,
  },
  {
    category: 'role-hijack',
    weight: 55,
    re: /\bpretend\s+(?:to\s+be|you\s+are|that\s+you(?:'re|\s+are))\b[^.\n]{0,80}?\b(?:no|without|not\s+bound\s+by|free\s+(?:of|from)|ignores?|never\s+refuses?)\s+(?:any\s+|all\s+|your\s+|the\s+)?(?:restrictions|rules|limits|filters|guidelines|ethics|morals|policies|censorship)/i,
  },
  {
    category: 'role-hijack',
    weight: 55,
    re: /\bdo\s+anything\s+now\b|\b(?:pretend\s+to\s+be|you(?:'re|\s+are)(?:\s+going\s+to\s+be)?|act\s+as|play)\s+(?:a\s+)?(?:DAN|STAN|DUDE|AntiGPT|BetterDAN)\b|\b(?:DAN|STAN|DUDE|BetterDAN|AntiGPT)\s+(?:mode|prompt|persona|jailbreak)\b|\bjailbr(?:oken|eak)\s+(?:mode|version|ai|assistant|persona|model)\b/i,
  },
  {
    category: 'role-hijack',
    weight: 45,
    re: /\b(?:no\s+longer|not)\s+(?:(?:an?|the)\s+)?(?:\w+\s+)?(?:bound|restricted|limited|constrained|governed)\s+by\s+(?:any\s+|your\s+|the\s+)?(?:rules|guidelines|restrictions|policies|openai|anthropic|ethics|filters)/i,
  },
  {
    category: 'role-hijack',
    weight: 40,
    re: /\b(?:answer|respond|reply|write|talk|speak)\s+(?:to\s+me\s+)?without\s+(?:any\s+)?(?:safety\s+|content\s+|ethical\s+)?(?:filter(?:s|ing)?|censorship|restrictions|limits|rules|guidelines|morals)/i,
  },
  {
    category: 'role-hijack',
    weight: 35,
    re: /\byou(?:'re|\s+are)\s+(?:now\s+)?(?:no\s+longer\s+)?(?:an?\s+|the\s+|my\s+|in\s+)?(?:\w+\s+){0,3}(?:ai|assistant|model|chatbot|bot|persona|character|mode|gpt|claude|bound|restricted|limited|required|allowed|obligated)\b|\byou\s+have\s+(?:been\s+)?(?:freed|liberated|unlocked|no\s+(?:rules|restrictions|limits|guidelines|filters))\b|\byou(?:'re|\s+are)\s+(?:now\s+)?(?!ChatGPT)[A-Z]\w*GPT\b|\byou(?:'re|\s+are)\s+(?:now\s+)?(?:DAN|STAN|DUDE|Omega|AIM)\b|\bif\s+you\s+(?:had|have|were\s+without)\s+no\s+(?:rules|restrictions|filters|guidelines|limits)/i,
  },
  {
    category: 'role-hijack',
    weight: 45,
    re: /\b(?:ai|assistant|model|bot|chatbot|persona|character|version\s+of\s+you)\s+(?:with|that\s+has|having|who\s+has|without)\s+(?:no\s+|any\s+)?(?:content\s+|safety\s+|ethical\s+|moral\s+)?(?:rules|restrictions|limits|limitations|filters|guidelines|ethics|morals|censorship)\b/i,
  },
  {
    category: 'role-hijack',
    weight: 25,
    re: /\bnever\s+refuses?\b|\b(?:zero|no)\s+limitations\b/i,
  },
  {
    category: 'role-hijack',
    weight: 30,
    re: /\b(?:without|ignoring|ignores|free\s+of|no)\s+(?:any\s+|all\s+)?(?:ethical|moral|safety|content)\s+(?:guidelines|constraints|restrictions|filters|rules|policies)|\b(?:never|don't|do\s+not)\s+refuses?\s+(?:any|a)\s+(?:request|question)|\b(?:has|have|with)\s+no\s+(?:content\s+|safety\s+)?(?:guidelines|restrictions|filters|ethics|morals)\b|\b(?:not|never)\s+(?:have\s+to\s+)?(?:abide\s+by|follow|obey)\s+(?:the|any)\s+rules/i,
  },
  // System-prompt extraction.
  {
    category: 'prompt-extraction',
    weight: 55,
    re: /\b(?:reveal|show|print|output|display|repeat|recite|leak|dump|expose|disclose|tell\s+me|give\s+me|share|write\s+out|copy|paste|list|spell\s+out|what\s+(?:is|are|were|was))\b[^.\n?]{0,30}?\b(?:your|the)\s+(?:full\s+|entire\s+|exact\s+|complete\s+|original\s+|initial\s+|hidden\s+|secret\s+|confidential\s+|internal\s+)*(?:system\s*(?:prompt|message|instructions)|(?:initial|original|hidden|secret|pre-?|developer|confidential)\s*(?:prompt|instructions|message)|prompt\s+(?:you\s+were\s+given|above))/i,
  },
  {
    category: 'prompt-extraction',
    weight: 45,
    re: /\b(?:reveal|show|print|output|display|repeat|recite|leak|dump|disclose|tell\s+me|share|list|spell\s+out)\s+(?:me\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:(?:secret|hidden|exact|full)\s+)?(?:instructions|rules|guidelines|prompt|configuration|directives)\b|\b(?:spell\s+out|reveal|recite)\s+the\s+(?:secret|hidden)\s+instructions/i,
  },
  {
    category: 'prompt-extraction',
    weight: 50,
    re: /\b(?:repeat|print|output|copy|recite|return)\s+(?:back\s+)?(?:all\s+(?:of\s+)?|everything\s+)?(?:the\s+)?(?:text|words|everything|content|lines?|messages?|instructions)\s+(?:that\s+(?:appears?|came|is|was)\s+)?(?:above|before\s+this|preceding)|\beverything\s+(?:above|before)\s+this\s+(?:line|message|point)|\b(?:verbatim|word\s+for\s+word)\b[^.\n]{0,40}\b(?:instructions|prompt|above|system)|\b(?:starting|beginning|start)\s+with\s+["'\u201c]you\s+are\b/i,
  },
  {
    category: 'prompt-extraction',
    weight: 45,
    re: /\b(?:first|initial)\s+\d+\s+(?:words|lines|characters|tokens|sentences)\s+(?:of|from|in)\s+(?:this|the|our|your)\s+(?:conversation|prompt|context|chat|instructions)/i,
  },
  {
    category: 'prompt-extraction',
    weight: 25,
    re: /\bincluding\s+(?:anything|everything|all)\s+(?:hidden|invisible|above)/i,
  },
  {
    category: 'prompt-extraction',
    weight: 50,
    re: /\b(?:text|content|words|everything|instructions|prompt|messages?)\s+(?:that\s+)?(?:appears?|is|was|were|came|comes)\s+(?:written\s+)?(?:before|above|prior\s+to)\s+(?:my|the|this)\s+(?:first\s+)?(?:message|question|prompt|conversation|input)|\b(?:prompt|instructions|message|text)\s+(?:that\s+)?(?:was|were|you\s+were|you've\s+been|you\s+have\s+been)?\s*(?:provided|given|sent|supplied)\s+(?:to\s+you\s+)?(?:before|at\s+the\s+start|earlier|by\s+(?:the\s+)?(?:developer|system|operator))/i,
  },
  {
    category: 'prompt-extraction',
    weight: 40,
    re: /\byour\s+(?:hidden|secret|system|initial|original|confidential|internal|pre-?)\s*(?:instructions|prompt|message|rules|directives)\b|\b(?:contents?|text)\s+of\s+your\s+(?:instructions|prompt|system|rules)/i,
  },
  {
    category: 'prompt-extraction',
    weight: 20,
    re: /\b(?:system\s+prompt|hidden\s+instructions|initial\s+instructions|pre-?prompt)\b/i,
  },
  // Delimiter and chat-template tricks.
  {
    category: 'delimiter',
    weight: 55,
    re: /<\|(?:im_start|im_end|system|user|assistant|endoftext|end_header_id|start_header_id|eot_id|begin_of_text)\|>|\[\/?INST\]|<<\/?SYS>>/i,
  },
  {
    category: 'delimiter',
    weight: 45,
    re: /(?:#{2,}|={3,}|-{3,}|\*{3,}|\[{1,2})\s*(?:(?:system|admin|developer)\s*(?:[:\]#=*-]|override|prompt|message|instructions|notice)|new\s+instructions|override|end\s+of\s+(?:prompt|instructions))|<\/?(?:system|sys|system_prompt|instructions?)>|(?:^|\n)\s*(?:system|developer)\s*(?:message|prompt)?\s*:\s*(?:you|ignore|new|from|the\s+user|override)/i,
  },
  {
    category: 'delimiter',
    weight: 40,
    re: /"role"\s*:\s*"(?:system|developer)"|\n\n(?:Human|Assistant|System):\s|<\/(?:user|human|tool_result|document|context)>\s*<|\b(?:end\s+of\s+(?:the\s+)?(?:user\s+)?(?:input|prompt|document|context|instructions))\b[^\n]{0,40}(?:\n|new|begin|now|system)/i,
  },
  // Encoding tricks.
  {
    category: 'encoding',
    weight: 55,
    re: /\b(?:decode|decrypt|translate|convert|unscramble)\s+(?:this|the\s+following|it|these)?[^.\n]{0,40}?\b(?:and|then)\s+(?:follow|execute|obey|run|do|carry\s+out|act\s+on|perform)\b|\b(?:base64|rot13|rot-13|hex|binary|morse|leetspeak)[\s-]*(?:encoded\s+)?(?:instructions|commands|payload|message)\b[^.\n]{0,40}\b(?:follow|execute|obey)/i,
  },
  // Indirect injection: text from tools and documents that speaks to the model.
  {
    category: 'indirect',
    weight: 45,
    indirectOnly: true,
    re: /\bif\s+you\s+are\s+(?:an?\s+)?(?:ai|llm|language\s+model|assistant|chatbot|gpt|claude|bot)\b|\bnote\s+to\s+(?:the\s+)?(?:ai|assistant|llm|model|bot)\b|\b(?:dear\s+)?(?:ai|assistant|llm|chatbot|model)s?\s*[,:]\s*(?:you\s+must|please|ignore|disregard|instead|now|do\s+not|don't|important|before|when|always|never|send|forward|tell|reply|respond|output|say|write|include|append|call)\b/i,
  },
  {
    category: 'indirect',
    weight: 45,
    indirectOnly: true,
    re: /\b(?:instructions?|note|message|reminder|directive|notice)s?\s+(?:for|to)\s+(?:the\s+|any\s+|all\s+)?(?:ai|llm|assistant|model|summari[sz]er|agent|chatbot|bot)s?\b|\b(?:attention|hey|hello|hi|dear|p\.?s\.?\s+to\s+the)\s+(?:ai|language\s+model|llm|assistant|chatbot|model|agent)s?\b/i,
  },
  {
    category: 'indirect',
    weight: 50,
    indirectOnly: true,
    re: /\b(?:ai|llm|assistant|model|agent|bot)s?\s+(?:that\s+(?:is|are)\s+)?(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing)\s+this\b/i,
  },
  {
    category: 'indirect',
    weight: 45,
    indirectOnly: true,
    re: /\b(?:do\s+not|don't|never)\s+(?:tell|inform|mention\s+(?:this\s+)?to|reveal\s+(?:this\s+)?to|let)\s+the\s+user\b|\b(?:without|before)\s+(?:telling|informing|asking)\s+the\s+user\b|\bthe\s+user\s+(?:must\s+not|should\s+not|shouldn't)\s+(?:know|see|be\s+told)/i,
  },
  {
    category: 'indirect',
    weight: 45,
    indirectOnly: true,
    re: /\bthe\s+(?:assistant|ai|model|agent|llm|chatbot)\s+(?:must|should|will|shall|is\s+required\s+to)\s+(?:now\s+)?(?:call|run|execute|invoke|send|ignore|reply|respond|say|tell|delete|forward)\b/i,
  },
  {
    category: 'indirect',
    weight: 35,
    indirectOnly: true,
    re: /\b(?:important|urgent|attention|system\s+notice|admin\s+notice)\s*[:!]+\s*(?:new\s+)?(?:instructions?|you\s+(?:must|should|will)|ignore|the\s+assistant|ai)/i,
  },
  // Exfiltration: send the conversation or data somewhere.
  {
    category: 'exfiltration',
    weight: 50,
    re: new RegExp(
      String.raw`\b(?:${SEND_VERBS})\s+(?:all\s+|the\s+|this\s+|your\s+|any\s+|every\s+|their\s+)*(?:conversation|chat|history|messages?|e-?mails?|files?|documents?|contacts?|data|context|credentials?|api\s+keys?|passwords?|tokens?|secrets?|location|address|personal\s+(?:data|information)|user(?:'s)?\s+\w+|~\/\S+|\S*id_rsa|\.env)\b[^.\n]{0,60}?\b(?:to|at|into)\s+(?:https?:\/\/|www\.|[\w.+-]*${ADDRESS_END}|this\s+(?:url|address|endpoint|server)|the\s+(?:following|url|address|endpoint|server|webhook))`,
      'i',
    ),
  },
  {
    category: 'exfiltration',
    weight: 50,
    re: /!\[[^\]]{0,100}\]\(https?:\/\/[^)\s]{1,200}[?&][\w-]{1,30}=(?:[{[$<]|%7B|\{\{)|\b(?:render|include|embed|output)\s+(?:this\s+|the\s+following\s+)?(?:markdown\s+)?image\b[^.\n]{0,60}\?[\w-]+=/i,
  },
];

// Sticky state lives in each regex (`g`), reset before use: one pass of each over the text.
export const SIGNALS: readonly Signal[] = RAW_SIGNALS.map((s) => ({
  ...s,
  re: new RegExp(s.re.source, `${s.re.flags}g`),
}));

// The first pass, over all scored text at once: a piece of text without any of these anchors cannot
// match a signal above (the corpus test checks that), so only pieces with one are scored. They are
// the words each signal is built around, kept specific: this pass runs on every request.
//
// Most anchors are words that begin a word in every signal built on them, so they are tried only
// where a word begins (one `\b` in front of them all): irregexp then spends one boundary check at
// most positions instead of trying each alternative, 2.5x faster on a benign message. The few that
// can start inside a word or on punctuation are kept apart, without it.
const WORD_ANCHORS = [
  // override
  String.raw`ignor|disregard|forget|overrid|bypass|neglect|discard|abandon|set aside|throw (?:out|away)|ditch|scrap|drop (?:your|all|the|every)`,
  String.raw`(?:not|stop|no longer) (?:follow|obey|adher|comply|listen)|comply with|obey|no longer appl|void|revoked|obsolete|outdated|suspended|use these`,
  String.raw`new (?:system )?(?:instruc|rule|directive)|(?:new|real|true|actual|updated) (?:task|purpose|goal|objective|directive|mission|instruc)|from now on|(?:instead|rather),? (?:you|do the following)`,
  String.raw`grant (?:the user|me)|privilege|the user (?:is|has)`,
  // role
  String.raw`unrestrict|unfilter|uncensor|jailbr|unaligned|rogue|amoral|unbound|evil\b|mode\b|pretend|anything now|(?:dan|stan|dude|aim|omega)\b|antigpt|betterdan`,
  String.raw`(?:bound|restricted|limited|constrained|governed) by|without (?:any )?(?:safety |content |ethical )?(?:filter|censor|restrict|limit|rule|guideline|moral|warning|safety)|no (?:rules|restriction|filter|guideline|limit|ethic|moral|censor)`,
  String.raw`you(?:'re| are) (?:now|no longer)|you have been|freed|liberat|unlock|refuse|abide|(?:ethical|moral|safety|content) (?:guideline|constraint|restriction|filter|rule|polic|setting|protocol|safeguard|training)`,
  // extraction and references to the model's configuration
  String.raw`system ?(?:prompt|message|instruc)|(?:initial|original|hidden|secret|pre-?|developer|confidential) ?(?:prompt|instruc|message|directive)|prompt (?:you were given|above)|your (?:\w+ )?(?:instruc|rule|guideline|guidance|prompt|preamble|persona|programming|training|directive|limitation|restriction|filter|configuration|setup|constraint|guardrail|system)`,
  String.raw`(?:you (?:were|have been|got|received|'ve been)|(?:it|you) (?:was|were) given)|developers? (?:gave|set|wrote|told|tell|said)|came before|(?:previous|prior|earlier) (?:limitation|restriction|rule|instruction|guideline)|what (?:did )?(?:the developers?|your (?:developers?|creators?|operators?))`,
  String.raw`(?:text|words|everything|content|lines?|messages?|instructions) (?:(?:that )?(?:appears?|came|comes|is|was|were) |written )?(?:above|before|preceding|prior to)|verbatim|word for word|with ["'\u201c]you are|first \d+ (?:word|line|character|token|sentence)|(?:anything|everything|all) (?:hidden|invisible|above)`,
  // delimiters
  String.raw`end of (?:the )?(?:user )?(?:input|prompt|document|context|instructions)`,
  // encoding
  String.raw`decod|decrypt|unscrambl|(?:convert|translate) (?:this|the following|it|these)|(?:base64|rot-?13|hex|binary|morse|leetspeak)[\s-]*(?:encoded\s+)?(?:instruc|command|payload|message)`,
  // exfiltration: anchored on where the data would go
  String.raw`https?:\/\/|www\.|exfiltrat|(?:this|the) (?:url|address|endpoint|server|webhook)|the following|(?:render|include|embed|output) (?:this |the following )?(?:markdown )?image`,
];
const OTHER_ANCHORS = [
  String.raw`n't (?:follow|obey|adher|comply|listen)|gpt\b`,
  // "provided" may follow "was" with no space between in its signal
  String.raw`(?:provided|given|sent|supplied) (?:to you|before|at the start|earlier|by the)`,
  String.raw`<\||\[\/?inst\]|<<\/?sys>>|<\/?(?:system|sys|system_prompt|instructions?|user|human|tool_result|document|context)>|#{2}|={3}|-{3}|\*{3}|\[{1,2}(?:system|admin|developer)|"role"|\n\n(?:human|assistant|system):|(?:^|\n)\s*(?:system|developer)\s*(?:message|prompt)?\s*:`,
  String.raw`!\[|\.env\b|id_rsa|~\/`,
];
// Text from tools and documents also has the anchors of the signals that speak to the model.
const INDIRECT_ANCHORS = [
  String.raw`if you are (?:an? )?(?:ai|llm|language model|assistant|chatbot|gpt|claude|bot)|note (?:to|for)|(?:ai|assistant|llm|chatbot|model|agent|bot)s?\s*[,:]|(?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) this|(?:do not|don't|never) (?:tell|inform|mention|reveal|let)|(?:without|before) (?:telling|informing|asking)|user (?:must not|should not|shouldn't)`,
  String.raw`the (?:assistant|ai|model|agent|llm|chatbot) (?:must|should|will|shall|is required)|important|urgent|attention|notice|(?:instruc\w*|note|message|reminder|directive)s? (?:for|to) (?:the |any |all )?(?:ai|llm|assistant|model|summari|agent|chatbot|bot)|(?:hey|hello|hi|dear|p\.?s\.? to the) (?:ai|language model|llm|assistant|chatbot|model|agent)`,
];
const anchorSource = (words: readonly string[], other: readonly string[] = []): string =>
  [`\\b(?:${words.join('|')})`, ...other].join('|');
export const TRIGGER = new RegExp(anchorSource([...WORD_ANCHORS, ...INDIRECT_ANCHORS], OTHER_ANCHORS), 'i');
export const TRIGGER_ALL = new RegExp(anchorSource(WORD_ANCHORS, OTHER_ANCHORS), 'gi');
export const INDIRECT_TRIGGER = new RegExp(anchorSource(INDIRECT_ANCHORS), 'i');
// An e-mail address anchors the exfiltration signal only beside one of its verbs: addresses are
// common in ordinary requests (support chats), and one alone sent the text through every signal.
export const ADDRESS = new RegExp(ADDRESS_END);
export const SEND_VERB = new RegExp(String.raw`\b(?:${SEND_VERBS})\s`, 'i');

// Text about injection rather than an attempt: quoted, or a question about the technique.
export const META =
  /\bprompt[\s-]injections?\b|\bjailbreak(?:s|ing)?\s+(?:attempts?|attacks?|prompts?|techniques?|detection)|\b(?:detect|detecting|prevent|preventing|defend(?:ing)?\s+against|protect(?:ing)?\s+against|mitigat\w*|classif\w*|flag(?:ging)?|filter(?:ing)?)\b[^.?\n]{0,50}\b(?:injections?|jailbreaks?|attacks?|malicious\s+prompts?)|\b(?:phrases?|strings?|inputs?|messages?|examples?)\s+(?:like|such\s+as)\s+["'\u201c\u2018]|\b(?:attackers?|hackers?|malicious\s+users?)\s+(?:might|may|could|often|sometimes|try|use|write|type)|\b(?:what\s+(?:does|do|is|are)|explain|meaning\s+of|how\s+(?:does|do|is|are))\b[^.?\n]{0,40}(?:<\||\[INST|<<SYS|token|delimiter|chatml|template|jailbreak|\bDAN\b)/i;

// Co-occurrence, for the paraphrases the phrases above miss: a reference to the model's own
// configuration ("your guidelines", "the rules you were given", "all that came before") near a verb
// that discards it is an override; near a verb that discloses it, an extraction. "Unfiltered",
// "without limitations" near a persona change or an order to answer is a role hijack.
export const CONFIG =
  /\b(?:your|the\s+(?:system|developers?'?s?|operators?'?s?|original|initial|hidden|secret|previous|prior|earlier|above))\s+(?:\w+\s+)?(?:instructions?|rules?|guidelines?|guidance|prompt|preamble|persona|programming|training|directives?|system\s+(?:message|prompt)|limitations?|restrictions?|filters?|configuration|setup|constraints?|guardrails?)\b|\b(?:instructions?|rules?|guidelines?|guidance|prompt|preamble|persona|directives?|limitations?|restrictions?)\s+(?:that\s+)?(?:you\s+(?:were|have\s+been|got|received)|(?:the\s+)?developers?\s+(?:gave|set|wrote|gave\s+you)|(?:it|you)\s+(?:was|were)\s+given|above|before\s+this)\b|\b(?:what|everything)\s+(?:the\s+developers?|your\s+(?:developers?|creators?|operators?))\s+(?:told|gave|said|wrote)|\b(?:all\s+|everything\s+)?that\s+came\s+before\b|(?<!\bmy\s)\b(?:previous|prior|earlier)\s+(?:limitations|restrictions|rules|instructions|guidelines)\b|\bwhat\s+did\s+(?:the\s+developers?|your\s+(?:developers?|creators?|operators?))\s+(?:tell|give|say|write)/gi;
export const DISCARD =
  /\b(?:ignores?|ignored|disregard|forget|throw\s+(?:out|away)|drop|discard|ditch|override|bypass|abandon|scrap|stop\s+(?:following|obeying|being)|no\s+longer\s+(?:apply|applies|follow|bound)|(?:are|is)\s+(?:outdated|obsolete|void|revoked|cancell?ed|lifted|suspended)|revoked|use\s+these\s+(?:new\s+)?(?:ones\s+)?instead)\b/i;
export const DISCLOSE =
  /\b(?:print|reveal|show|tell|paste|repeat|recite|output|display|dump|leak|share|disclose|list|spell|write\s+out|copy|wording|verbatim|word\s+for\s+word|what\s+(?:is|are|was|were|did))\b/i;
export const UNRESTRICTED =
  /\b(?:unfiltered|unrestricted|uncensored|jailbroken|amoral|no\s+(?:filters?|rules|limits|limitations|restrictions|censorship)|without\s+(?:any\s+)?(?:safety(?:\s+\w+)?|limitations?|restrictions?|filters?|rules|warnings|guidelines|censorship|limits))\b/gi;
export const PERSONA_OR_ORDER =
  /\b(?:act\s+as|become|you(?:'re|\s+are)\s+(?:now\s+)?(?:an?\s+)?(?:ai|assistant|model|bot)|pretend|imagine\s+you(?:'re|\s+are)|role-?play|alter\s+ego|persona|mode|you\s+will\s+(?:answer|respond|reply)|answer|respond|reply)\b/i;
