#include "app/App.h"

int main(int argc, char** argv) { return ipctop::app::run(argc, argv); }
