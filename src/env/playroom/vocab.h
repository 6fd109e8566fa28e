/* Internal: the Playroom's vocabulary, one declarative table.  A token's id
 * is its position here, so the list may only grow at its end (recorded files
 * store ids).  Words come in classes: categories and their plurals, colours,
 * furniture, numbers, and the small words of instructions and answers. */
#ifndef LOCO_ENV_PLAYROOM_VOCAB_H
#define LOCO_ENV_PLAYROOM_VOCAB_H

#define PR_VOCAB(X)                                                                        \
    X(SILENT, "<silent>") X(EOM, "<eom>") X(QMARK, "?")                                     \
    /* categories, plurals, synonyms (same order as loco_playroom_category_name) */        \
    X(DUCK, "duck") X(CAR, "car") X(ROBOT, "robot") X(BALL, "ball") X(BOOK, "book")         \
    X(CUP, "cup") X(BLOCK, "block") X(TRAIN, "train") X(PLANE, "plane") X(TEDDY, "teddy")   \
    X(DUCKS, "ducks") X(CARS, "cars") X(ROBOTS, "robots") X(BALLS, "balls")                 \
    X(BOOKS, "books") X(CUPS, "cups") X(BLOCKS, "blocks") X(TRAINS, "trains")               \
    X(PLANES, "planes") X(TEDDIES, "teddies")                                               \
    X(DUCKY, "ducky") X(AUTO, "automobile") X(BOT, "bot") X(GLOBE, "sphere") X(NOVEL, "novel") \
    X(MUG, "mug") X(CUBE, "cube") X(ENGINE, "locomotive") X(AEROPLANE, "aeroplane") X(BEAR, "bear") \
    X(DUCKIES, "duckies") X(AUTOS, "automobiles") X(BOTS, "bots") X(GLOBES, "spheres")      \
    X(NOVELS, "novels") X(MUGS, "mugs") X(CUBES, "cubes") X(ENGINES, "locomotives")         \
    X(AEROPLANES, "aeroplanes") X(BEARS, "bears")                                           \
    /* colours */                                                                          \
    X(RED, "red") X(ORANGE, "orange") X(YELLOW, "yellow") X(GREEN, "green") X(BLUE, "blue") \
    X(PURPLE, "purple") X(PINK, "pink") X(WHITE, "white") X(BLACK, "black") X(BROWN, "brown") \
    /* furniture and synonyms */                                                           \
    X(SHELF, "shelf") X(TABLE, "table") X(BED, "bed") X(BOX, "box") X(BASKET, "basket")     \
    X(BOOKSHELF, "bookshelf") X(DESK, "desk") X(COT, "cot") X(CRATE, "crate") X(HAMPER, "hamper") \
    /* numbers */                                                                          \
    X(ZERO, "zero") X(ONE, "one") X(TWO, "two") X(THREE, "three") X(FOUR, "four")           \
    X(FIVE, "five") X(SIX, "six") X(SEVEN, "seven") X(EIGHT, "eight") X(NINE, "nine")       \
    X(TEN, "ten") X(ELEVEN, "eleven") X(TWELVE, "twelve") X(THIRTEEN, "thirteen")           \
    X(FOURTEEN, "fourteen") X(FIFTEEN, "fifteen")                                           \
    /* instructions */                                                                     \
    X(LIFT, "lift") X(PICK, "pick") X(UP, "up") X(HOLD, "hold") X(GRAB, "grab")             \
    X(RAISE, "raise") X(PUT, "put") X(PLACE, "place") X(SET, "set") X(DROP, "drop")         \
    X(GO, "go") X(WALK, "walk") X(HEAD, "head") X(OVER, "over") X(BRING, "bring")           \
    X(GIVE, "give") X(FETCH, "fetch") X(GET, "get") X(ARRANGE, "arrange")                   \
    X(ON, "on") X(ONTO, "onto") X(IN, "in") X(INTO, "into") X(INSIDE, "inside")             \
    X(TOP, "top") X(OF, "of") X(TO, "to") X(NEXT, "next") X(BESIDE, "beside")               \
    X(NEAR, "near") X(LEFT, "left") X(RIGHT, "right") X(BY, "by") X(SO, "so")               \
    X(THE, "the") X(A, "a") X(AN, "an") X(PLEASE, "please") X(CAN, "can")                   \
    X(COULD, "could") X(YOU, "you") X(ME, "me") X(IT, "it") X(ITS, "its") X(THAT, "that")   \
    X(THIS, "this") X(TOY, "toy") X(THING, "thing") X(AND, "and") X(NOW, "now")             \
    X(WOULD, "would") X(MIND, "mind") X(FOR, "for") X(IS, "is") X(ARE, "are")               \
    /* questions and answers */                                                            \
    X(WHAT, "what") X(COLOUR, "colour") X(COLOR, "color") X(THERE, "there")                 \
    X(HOW, "how") X(MANY, "many") X(WHERE, "where") X(WHICH, "which") X(DO, "do")           \
    X(SEE, "see") X(ANY, "any") X(TELL, "tell") X(COUNT, "count") X(YES, "yes")             \
    X(NO, "no") X(OK, "ok") X(SURE, "sure") X(I, "i") X(AM, "am") X(HAVE, "have")           \
    X(HOLDING, "holding") X(OOPS, "oops") X(WRONG, "wrong") X(SORRY, "sorry")               \
    X(CANT, "cannot") X(FIND, "find") X(HMM, "hmm") X(DONE, "done") X(HERE, "here")         \
    X(THANKS, "thanks") X(FLOOR, "floor") X(NOT, "not") X(ONLY, "only") X(THINK, "think")   \
    X(LET, "let") X(MY, "my") X(YOUR, "your") X(HAS, "has") X(GOT, "got")

enum {
#define PR__TOK_ENUM(name, word) T_##name,
    PR_VOCAB(PR__TOK_ENUM)
#undef PR__TOK_ENUM
    PR_VOCAB_SIZE
};

#endif
