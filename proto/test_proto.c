#include "proto_status.h"
int main(void){return 0;}
